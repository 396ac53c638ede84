/** The signed-in session: the page's signer, its bearer token and GET /auth/me. */
import { createContext, useContext } from "react";
import type { Me } from "../../shared/api-types";
import type { PageSigner } from "./signer";

export interface Session {
  signer: PageSigner;
  me: Me;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error("not signed in");
  return s;
}

/** Shows a confirmation above the page (the row that asked for it may be gone once the lists refresh). */
export const NoticeContext = createContext<(message: string) => void>(() => undefined);
