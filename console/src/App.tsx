/** The console's shell: sign-in, then one tab per role the signed-in address holds. */
import { lazy, Suspense, useState } from "react";
import { useTranslation } from "react-i18next";
import { get, post, setToken } from "./api";
import { ErrorBox, Field } from "./components";
import { toggleLanguage } from "./i18n";
import type { Me } from "../../shared/api-types";
import { NoticeContext, SessionContext, type Session } from "./session";
import { injectedWallet, keystoreSigner, walletSigner, type PageSigner } from "./signer";

// Each role's page is its own chunk, loaded when its tab opens: sign-in needs none of them, and
// the charts (recharts) load only with the pages that draw them.
const SupplierPage = lazy(() => import("./pages/Supplier").then((m) => ({ default: m.SupplierPage })));
const BuyerPage = lazy(() => import("./pages/Buyer").then((m) => ({ default: m.BuyerPage })));
const FinancierPage = lazy(() => import("./pages/Financier").then((m) => ({ default: m.FinancierPage })));
const AuditorPage = lazy(() => import("./pages/Auditor").then((m) => ({ default: m.AuditorPage })));
const CompliancePage = lazy(() => import("./pages/Compliance").then((m) => ({ default: m.CompliancePage })));
const ApplyPage = lazy(() => import("./pages/Apply").then((m) => ({ default: m.ApplyPage })));

type Tab = "supplier" | "buyer" | "financier" | "auditor" | "compliance" | "apply";

/** Sign-In with Ethereum: challenge, personal_sign in the page, bearer token, then who we are. */
async function signIn(signer: PageSigner): Promise<Session> {
  const ch = await post<{ message: string }>("/auth/challenge", { address: signer.address });
  const signature = await signer.signMessage(ch.message);
  const { accessToken } = await post<{ accessToken: string }>("/auth/login", { message: ch.message, signature });
  setToken(accessToken);
  return { signer, me: await get<Me>("/auth/me") };
}

export function tabsOf(me: Me): Tab[] {
  const tabs: Tab[] = [];
  for (const r of ["supplier", "buyer", "financier", "auditor"] as const) if (me.verifiedMember && me.roleNames.includes(r)) tabs.push(r);
  if (me.complianceOfficer) tabs.push("compliance");
  if (!me.verifiedMember && !me.complianceOfficer) tabs.push("apply");
  return tabs;
}

function SignIn({ onSession }: { onSession: (s: Session) => void }) {
  const { t } = useTranslation();
  const [file, setFile] = useState<File | null>(null);
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (make: () => Promise<PageSigner>) => {
    setBusy(true);
    setError(null);
    try {
      onSession(await signIn(await make()));
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="signin">
      <h2>{t("withKeystore")}</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (file) void run(async () => keystoreSigner(await file.text(), password));
        }}
      >
        <Field label={t("keystore")}>
          <input type="file" name="keystore" accept=".json,application/json" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        </Field>
        <Field label={t("password")}>
          <input type="password" name="password" value={password} onChange={(e) => setPassword(e.target.value)} autoComplete="current-password" />
        </Field>
        <button type="submit" className="primary" disabled={busy || !file}>
          {busy ? t("working") : t("signIn")}
        </button>
        <p className="muted">{t("keyStays")}</p>
      </form>
      {injectedWallet() ? (
        <p>
          <button type="button" onClick={() => void run(walletSigner)} disabled={busy}>
            {t("withWallet")}
          </button>
        </p>
      ) : null}
      <ErrorBox error={error} />
    </section>
  );
}

export function App() {
  const { t } = useTranslation();
  const [session, setSession] = useState<Session | null>(null);
  const [tab, setTab] = useState<Tab | null>(null);
  const [notice, setNotice] = useState<{ n: number; text: string } | null>(null);
  const notify = (text: string) => setNotice((prev) => ({ n: (prev?.n ?? 0) + 1, text }));
  const tabs = session ? tabsOf(session.me) : [];
  const current = tab && tabs.includes(tab) ? tab : tabs[0];
  const signOut = () => {
    void post("/auth/logout").catch(() => undefined);
    setToken(null);
    setSession(null);
    setTab(null);
  };
  return (
    <div className="app">
      <header>
        <h1>{t("title")}</h1>
        <button type="button" onClick={toggleLanguage} className="lang">
          {t("language")}
        </button>
        {session ? (
          <span className="who">
            {t("signedInAs", { address: session.me.address })} · {t("roles")}:{" "}
            {[...session.me.roleNames, ...(session.me.complianceOfficer ? ["compliance"] : [])].join(", ") || t("none")}{" "}
            <button type="button" onClick={signOut}>
              {t("signOut")}
            </button>
          </span>
        ) : null}
      </header>
      {!session ? (
        <SignIn onSession={setSession} />
      ) : (
        <SessionContext.Provider value={session}>
          <NoticeContext.Provider value={notify}>
          <nav>
            {tabs.map((k) => (
              <button type="button" key={k} className={k === current ? "active" : ""} onClick={() => setTab(k)}>
                {t(`tabs.${k}`)}
              </button>
            ))}
          </nav>
          {notice ? (
            <p className="ok notice" role="status" data-testid="notice" data-n={notice.n}>
              {notice.text}
            </p>
          ) : null}
          <main>
            <Suspense fallback={<p className="muted">{t("working")}</p>}>
            {current === "supplier" && <SupplierPage />}
            {current === "buyer" && <BuyerPage />}
            {current === "financier" && <FinancierPage />}
            {current === "auditor" && <AuditorPage />}
            {current === "compliance" && <CompliancePage />}
            {current === "apply" && (
              <ApplyPage
                onApproved={async () => setSession({ ...session, me: await get<Me>("/auth/me") })}
              />
            )}
            </Suspense>
          </main>
          </NoticeContext.Provider>
        </SessionContext.Provider>
      )}
    </div>
  );
}
