/** Compliance officer: applications with their documents and screening; approve or reject; suspend or reinstate members. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { all, download, post } from "../api";
import { Addr, ErrorBox, Section } from "../components";

interface Application {
  id: string;
  applicant: string;
  legalName: string;
  entityIdType: string;
  entityId: string;
  jurisdiction: string;
  roles: string[];
  status: string;
  screeningResult: string;
  checks: Array<{ code: string; result: string; reason: string }>;
  documents: Array<{ id: string; filename: string }>;
  decisionReason: string | null;
}

interface Participant {
  address: string;
  roles: string[];
  status: string;
  verified: boolean;
  kycExpiry: string;
  jurisdiction: string;
}

/** Runs one officer action (the officer's acts are signed by the service's compliance key) and refreshes. */
function useAction() {
  const qc = useQueryClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (path: string, body: unknown) => {
    setBusy(true);
    setError(null);
    try {
      await post(path, body);
      await qc.invalidateQueries();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, run };
}

function ApplicationRow({ a }: { a: Application }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  const [docError, setDocError] = useState<unknown>(null);
  return (
    <tr data-testid={`application-${a.applicant}`}>
      <td>{a.legalName}<br /><Addr a={a.applicant} /></td>
      <td>{a.entityIdType} {a.entityId} · {a.jurisdiction}</td>
      <td>{a.roles.join(", ")}</td>
      <td>
        <strong>{a.screeningResult}</strong>
        <ul className="checks">
          {a.checks.map((c) => (
            <li key={c.code} className={c.result}>{c.code}: {c.result}{c.result !== "pass" ? ` — ${c.reason}` : ""}</li>
          ))}
        </ul>
      </td>
      <td>
        {a.documents.map((d) => (
          <button key={d.id} type="button" className="link" onClick={() => download(`/onboarding/applications/${a.id}/documents/${d.id}`, d.filename).catch(setDocError)}>
            {d.filename}
          </button>
        ))}
        <ErrorBox error={docError} />
      </td>
      <td className="status">{a.status}</td>
      <td className="actions">
        {a.status === "submitted" || a.status === "needs_review" ? (
          <>
            <button type="button" data-testid="approve-application" disabled={busy} onClick={() => run(`/onboarding/applications/${a.id}/approve?wait=true`, {})}>
              {t("approve")}
            </button>
            <input className="narrow" name="rejectReason" placeholder={t("reason")} value={reason} onChange={(e) => setReason(e.target.value)} />
            <button type="button" disabled={busy} onClick={() => run(`/onboarding/applications/${a.id}/reject`, { reason })}>
              {t("reject")}
            </button>
          </>
        ) : null}
        {busy ? t("working") : null}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

function MemberRow({ p }: { p: Participant }) {
  const { t } = useTranslation();
  const [reason, setReason] = useState("");
  const { busy, error, run } = useAction();
  return (
    <tr>
      <td><Addr a={p.address} /></td>
      <td>{p.roles.join(", ")}</td>
      <td>{p.status}{p.verified ? " ✓" : ""}</td>
      <td className="actions">
        <input className="narrow" name="memberReason" placeholder={t("reason")} value={reason} onChange={(e) => setReason(e.target.value)} />
        {p.status === "active" ? (
          <button type="button" disabled={busy} onClick={() => run(`/participants/${p.address}/suspend`, { reason })}>{t("suspend")}</button>
        ) : (
          <button type="button" disabled={busy} onClick={() => run(`/participants/${p.address}/reinstate`, reason ? { reason } : {})}>{t("reinstate")}</button>
        )}
        <ErrorBox error={error} />
      </td>
    </tr>
  );
}

export function CompliancePage() {
  const { t } = useTranslation();
  const apps = useQuery({ queryKey: ["applications"], queryFn: () => all<Application>("/onboarding/applications") });
  const members = useQuery({ queryKey: ["participants"], queryFn: () => all<Participant>("/participants") });
  return (
    <div data-testid="compliance-page">
      <Section title={t("applications")}>
        <button type="button" onClick={() => void apps.refetch()}>{t("refresh")}</button>
        <ErrorBox error={apps.error} />
        <table>
          <thead>
            <tr><th>{t("legalName")}</th><th>{t("entityId")}</th><th>{t("applyRoles")}</th><th>{t("compliance")}</th><th>{t("documents")}</th><th>{t("status")}</th><th /></tr>
          </thead>
          <tbody>{(apps.data ?? []).map((a) => <ApplicationRow key={a.id} a={a} />)}</tbody>
        </table>
      </Section>
      <Section title="Members">
        <ErrorBox error={members.error} />
        <table>
          <tbody>{(members.data ?? []).map((p) => <MemberRow key={p.address} p={p} />)}</tbody>
        </table>
      </Section>
    </div>
  );
}
