// Who may do what in the console. The server decides (a viewer's correction is refused with 403
// `forbidden`); the page only hides what the signed-in role cannot do.

export type Role = "viewer" | "official";

export interface Session {
  name: string;
  role: Role;
  expires_ms: number;
}

// What a control needs: `view` (reading, every signed-in role) or `correct` (corrections and
// their undo: the official role).
export type Need = "view" | "correct";

export function roleAllows(role: Role | undefined, need: Need): boolean {
  if (role === undefined) return false;
  if (need === "view") return role === "viewer" || role === "official";
  return role === "official";
}

export function canCorrect(session: Session | null | undefined): boolean {
  return roleAllows(session?.role, "correct");
}

export function roleText(role: Role): string {
  return role === "official" ? "official" : "viewer (read only)";
}

// The session body from the server, checked: anything else is treated as signed out.
export function parseSession(body: unknown): Session | null {
  if (!body || typeof body !== "object") return null;
  const { name, role, expires_ms } = body as Record<string, unknown>;
  if (typeof name !== "string" || name === "") return null;
  if (role !== "viewer" && role !== "official") return null;
  return { name, role, expires_ms: typeof expires_ms === "number" ? expires_ms : 0 };
}
