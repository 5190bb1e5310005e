// What a single-page app does with the client generated from rollcall's OpenAPI document.
// tests/test_ts_client.py type-checks it under `tsc --strict`: it must need no casts, no `any`
// and no non-null assertions, so every type here comes from the document.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "../generated/rollcall";

type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];
export type Team = Schemas["TeamRead"];
export type ContractView = Schemas["ContractView"];

export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: Problem };

const CONFLICT = "urn:rollcall:problem:conflict";

export function adminClient(baseUrl: string, accessToken: () => string) {
  const bearer: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${accessToken()}`);
      return request;
    },
  };
  const client = createClient<paths>({ baseUrl });
  client.use(bearer);
  return client;
}

export function publicClient(baseUrl: string) {
  return createClient<paths>({ baseUrl });
}

export type AdminClient = ReturnType<typeof adminClient>;
export type PublicClient = ReturnType<typeof publicClient>;

/** Every team of a season, page by page: `items` and `total` are always there. */
export async function listTeams(client: AdminClient, season: string): Promise<Outcome<Team[]>> {
  const teams: Team[] = [];
  for (let offset = 0; ; offset += 200) {
    const { data, error } = await client.GET("/api/v1/admin/teams", {
      params: { query: { season, limit: 200, offset } },
    });
    if (error !== undefined) {
      return { ok: false, problem: error };
    }
    teams.push(...data.items);
    if (data.items.length === 0 || offset + data.items.length >= data.total) {
      return { ok: true, value: teams };
    }
  }
}

export function teamLabel(team: Team): string {
  const tier = team.tier === null ? "" : ` ${team.tier}`;
  return `${team.name} (${team.season}${tier}), ${(team.monthly_fee / 100).toFixed(2)} a month`;
}

/** The parent signs on the public link; a refusal is a problem document whatever its status. */
export async function signContract(
  client: PublicClient,
  token: string,
  signedBy: string,
  signaturePng: string,
  contractVersion: string,
): Promise<Outcome<ContractView>> {
  const { data, error } = await client.POST("/api/v1/contracts/{token}/sign", {
    params: { path: { token } },
    body: {
      signed_by: signedBy,
      contract_version: contractVersion,
      accept_terms: true,
      signature_png: signaturePng,
    },
  });
  if (error !== undefined) {
    return { ok: false, problem: error };
  }
  return { ok: true, value: data };
}

/** What the page tells the parent, from the problem's `type` and `status` and the fields it names. */
export function explain(problem: Problem): string {
  if (problem.type === CONFLICT) {
    return "This contract was already answered.";
  }
  if (problem.status === 429) {
    return "Too many tries; wait a minute.";
  }
  const fields = (problem.errors ?? []).map((error) => error.field);
  const where = fields.length > 0 ? ` (${fields.join(", ")})` : "";
  return `${problem.title} [${problem.status}]: ${problem.detail}${where}`;
}
