/**
 * Disputes of invoices: the buyer's "Dispute" beside "Accept" (a reason, optional text, the signed
 * DisputeInvoice statement), and the badge both sides see on a disputed receivable. The set of
 * disputed receivables is one query per page (`?disputed=true`); a badge reads its receivable's
 * detail only where there is a dispute.
 */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery } from "@tanstack/react-query";
import { all, get } from "../api";
import { ActButton } from "../components";
import type { Receivable, ReceivableDispute } from "../../../shared/api-types";

const REASONS = ["not_delivered", "amount_wrong", "duplicate", "not_ordered", "other"] as const;

function useDisputed(): Set<string> {
  const q = useQuery({ queryKey: ["receivables", "disputed"], queryFn: () => all<Receivable>("/receivables?disputed=true") });
  return new Set((q.data ?? []).map((r) => r.id));
}

/** The debtor's dispute of `id`, if any: reason and text. */
export function DisputeBadge({ id }: { id: string }) {
  const { t } = useTranslation();
  const disputed = useDisputed().has(id);
  const detail = useQuery({
    queryKey: ["receivable", id, "dispute"],
    queryFn: () => get<{ dispute: ReceivableDispute | null }>(`/receivables/${id}`),
    enabled: disputed,
  });
  const d = detail.data?.dispute;
  if (!disputed || !d) return null;
  return (
    <span className="disputed" data-testid={`disputed-${id}`}>
      {" · "}
      {t("disputed")}: {t(`reasons.${d.reasonCode}`)}
      {d.text ? ` “${d.text}”` : ""}
      {d.open ? "" : ` (${d.closedBy})`}
    </span>
  );
}

/** Reason picker and the signed dispute, for an issued receivable the signed-in buyer owes. */
export function DisputeButton({ r }: { r: Receivable }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState<string>(REASONS[0]);
  const [text, setText] = useState("");
  if (useDisputed().has(r.id)) return <DisputeBadge id={r.id} />;
  return (
    <span className="dispute">
      <select name="disputeReason" aria-label={t("disputeReason")} value={reason} onChange={(e) => setReason(e.target.value)}>
        {REASONS.map((c) => (
          <option key={c} value={c}>
            {t(`reasons.${c}`)}
          </option>
        ))}
      </select>
      <input className="narrow" name="disputeText" placeholder={t("disputeText")} maxLength={500} value={text} onChange={(e) => setText(e.target.value)} />
      <ActButton
        label={t("dispute")}
        testId="dispute"
        prepare={() => ({ path: `/receivables/${r.id}/dispute`, body: text.trim() ? { reasonCode: reason, text } : { reasonCode: reason } })}
      />
    </span>
  );
}
