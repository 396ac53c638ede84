/** A signed-in address that is not a member yet applies for membership with its business licence. */
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { request } from "../api";
import { ErrorBox, Field, Section } from "../components";

const ROLES = ["supplier", "buyer", "financier", "auditor"] as const;

export function ApplyPage({ onApproved }: { onApproved: () => Promise<void> }) {
  const { t } = useTranslation();
  const [f, setF] = useState({ legalName: "", entityId: "", jurisdiction: "CN" });
  const [roles, setRoles] = useState<string[]>([]);
  const [file, setFile] = useState<File | null>(null);
  const [result, setResult] = useState<{ id: string; status: string } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      const form = new FormData();
      form.append("legalName", f.legalName);
      form.append("entityIdType", "USCC");
      form.append("entityId", f.entityId);
      form.append("jurisdiction", f.jurisdiction);
      form.append("roles", roles.join(","));
      if (file) form.append("documents", file, file.name);
      setResult(await request<{ id: string; status: string }>("POST", "/onboarding/applications", { form }));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title={t("apply")}>
      <p className="muted">{t("notMember")}</p>
      <form className="grid" data-testid="apply-form" onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <Field label={t("legalName")}><input name="legalName" value={f.legalName} onChange={(e) => setF({ ...f, legalName: e.target.value })} /></Field>
        <Field label={t("entityId")}><input name="entityId" value={f.entityId} onChange={(e) => setF({ ...f, entityId: e.target.value })} /></Field>
        <Field label={t("jurisdiction")}><input name="jurisdiction" value={f.jurisdiction} onChange={(e) => setF({ ...f, jurisdiction: e.target.value })} className="narrow" /></Field>
        <fieldset>
          <legend>{t("applyRoles")}</legend>
          {ROLES.map((r) => (
            <label key={r} className="check">
              <input type="checkbox" name={`role-${r}`} checked={roles.includes(r)} onChange={(e) => setRoles(e.target.checked ? [...roles, r] : roles.filter((x) => x !== r))} />
              {t(`tabs.${r}`)}
            </label>
          ))}
        </fieldset>
        <Field label={t("kycDocument")}><input type="file" name="kycDocument" accept="application/pdf" onChange={(e) => setFile(e.target.files?.[0] ?? null)} /></Field>
        <button type="submit" className="primary" disabled={busy}>{t("apply")}</button>
      </form>
      {result ? (
        <p className="ok" data-testid="application-result">
          {t("submitted", { id: result.id.slice(0, 8), status: result.status })}{" "}
          <button type="button" data-testid="check-membership" onClick={() => void onApproved().catch(setError)}>{t("refresh")}</button>
        </p>
      ) : null}
      <ErrorBox error={error} />
    </Section>
  );
}
