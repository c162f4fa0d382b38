// Run with mongosh connected to the replica set (any primary) as the root user.
// One user per service that stores data (the verifier has none), allowed to read and write only its own database: a compromised service
// cannot read another service's data (tenant keys live in sceau_issuer only).
// Idempotent: existing users get their password and roles reset to the declared ones.
const admin = db.getSiblingDB("admin");
for (const service of ["issuer", "registry", "notifier"]) {
  const user = `sceau_${service}`;
  const pwd = process.env[`SCEAU_${service.toUpperCase()}_PASSWORD`];
  if (!pwd) throw new Error(`no password given for ${user}`);
  const roles = [{ role: "readWrite", db: `sceau_${service}` }];
  if (admin.getUser(user)) {
    admin.updateUser(user, { pwd, roles });
    print(`user ${user} updated`);
  } else {
    admin.createUser({ user, pwd, roles });
    print(`user ${user} created`);
  }
}
