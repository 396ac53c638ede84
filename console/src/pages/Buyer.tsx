/** Buyer: invoices awaiting my confirmation with their documents; accept or dispute; what I owe by due date; repay (with a permit). */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { all, download, get } from "../api";
import { ActButton, Addr, Balance, ErrorBox, Section, Yuan } from "../components";
import { day, yuanToFen } from "../money";
import type { Receivable, ReceivableDocument } from "../../../shared/api-types";
import { MaturityLadder } from "./Charts";
import { DisputeButton } from "./Dispute";

function Documents({ id }: { id: string }) {
  const { t } = useTranslation();
  const docs = useQuery({ queryKey: ["documents", id], queryFn: () => get<ReceivableDocument[]>(`/receivables/${id}/documents`) });
  const [error, setError] = useState<unknown>(null);
  return (
    <span className="docs">
      {(docs.data ?? []).map((d) => (
        <button type="button" key={d.sha256} className="link" onClick={() => download(`/receivables/${id}/documents/${d.sha256}`, d.filename).catch(setError)}>
          {t("open")} {d.filename}
        </button>
      ))}
      <ErrorBox error={error ?? docs.error} />
    </span>
  );
}

function Repay({ r }: { r: Receivable }) {
  const { t } = useTranslation();
  const [amount, setAmount] = useState("");
  return (
    <>
      <input className="narrow" name="repayAmount" placeholder={t("amount")} value={amount} onChange={(e) => setAmount(e.target.value)} />
      <ActButton
        label={t("repay")}
        testId="repay"
        prepare={() => ({ path: `/receivables/${r.id}/repay`, body: { amount: (amount ? yuanToFen(amount) : BigInt(r.outstanding)).toString() } })}
      />
    </>
  );
}

export function BuyerPage() {
  const { t, i18n } = useTranslation();
  const awaiting = useQuery({ queryKey: ["receivables", "debtor", "issued"], queryFn: () => all<Receivable>("/receivables?role=debtor&status=issued&sort=dueDate") });
  const owed = useQuery({ queryKey: ["receivables", "debtor", "owed"], queryFn: () => all<Receivable>("/receivables?role=debtor&status=accepted,financed&sort=dueDate") });
  return (
    <div data-testid="buyer-page">
      <Section title={t("awaiting")} refresh>
        <ErrorBox error={awaiting.error} />
        <table>
          <thead>
            <tr><th>id</th><th>{t("seller")}</th><th>{t("face")}</th><th>{t("dueDate")}</th><th>{t("documents")}</th><th /></tr>
          </thead>
          <tbody>
            {(awaiting.data ?? []).map((r) => (
              <tr key={r.id} data-testid={`awaiting-${r.id}`}>
                <td><Addr a={r.id} /></td>
                <td><Addr a={r.seller} /></td>
                <td><Yuan fen={r.faceValue} /></td>
                <td>{day(r.dueDate, i18n.language)}</td>
                <td><Documents id={r.id} /></td>
                <td>
                  <ActButton label={t("accept")} testId="accept" prepare={() => ({ path: `/receivables/${r.id}/accept`, body: {} })} />
                  <DisputeButton r={r} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {awaiting.data?.length === 0 ? <p className="muted">{t("nothing")}</p> : null}
      </Section>
      <Section title={t("iOwe")} refresh>
        <Balance />
        <ErrorBox error={owed.error} />
        <MaturityLadder receivables={owed.data ?? []} />
        <table>
          <thead>
            <tr><th>{t("dueDate")}</th><th>id</th><th>{t("holder")}</th><th>{t("outstanding")}</th><th /></tr>
          </thead>
          <tbody>
            {(owed.data ?? []).map((r) => (
              <tr key={r.id} data-testid={`owed-${r.id}`}>
                <td>{day(r.dueDate, i18n.language)}</td>
                <td><Addr a={r.id} /></td>
                <td><Addr a={r.holder} /></td>
                <td><Yuan fen={r.outstanding} /></td>
                <td><Repay r={r} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </Section>
    </div>
  );
}
