// npm run token -- <email>: ensures a local user exists and prints an access token for it
// (last line of output), signed like a Supabase Auth session token.
import pg from "pg";
import { accessToken } from "./lib/keys.ts";
import { defaultLocalDir, readStackEnv } from "./lib/stack.ts";

const email = process.argv[2]?.trim().toLowerCase();
if (!email || !/^[^\s@]+@[^\s@]+$/.test(email)) {
  console.error("usage: npm run token -- <email>   (email: a valid address, e.g. ada@example.com)");
  process.exit(2);
}

const env = readStackEnv(defaultLocalDir);
const client = new pg.Client({ connectionString: env.DATABASE_URL });
await client.connect();
try {
  // Insert-or-read in one statement, so two concurrent calls get the same user.
  const { rows: [user] } = await client.query(
    `with inserted as (
       insert into auth.users (email) values ($1) on conflict (lower(email)) do nothing
       returning id, email, raw_app_meta_data, raw_user_meta_data
     )
     select * from inserted
     union all
     select id, email, raw_app_meta_data, raw_user_meta_data from auth.users where lower(email) = $1
     limit 1`,
    [email],
  );
  console.error(`user ${user.email} (${user.id})`);
  console.log(
    await accessToken(env.SUPABASE_JWT_SECRET, env.SUPABASE_URL, {
      id: user.id,
      email: user.email,
      appMetadata: user.raw_app_meta_data,
      userMetadata: user.raw_user_meta_data,
    }),
  );
} finally {
  await client.end();
}
