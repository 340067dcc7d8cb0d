/** The signed-in user and the site, shared by every view through a context. */
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Permission, Site, User } from '../../contract/index.ts';

export interface SessionContext { user: User; site: Site; signOut: () => void }
export const Session = createContext<SessionContext | null>(null);

export function useSession(): SessionContext {
  const s = useContext(Session);
  if (!s) throw new Error('useSession outside a signed-in app');
  return s;
}

/** Whether the signed-in user's role has `perm` (the server enforces it anyway). */
export function useCan(perm: Permission): boolean {
  return useSession().user.permissions.includes(perm);
}
