// Run with mongosh connected DIRECTLY to member 0 as the root user (sceau-mongodb-init Job).
// Idempotent: a replica set that is already initiated is left alone, so the Job can run again.
const members = parseInt(process.env.SCEAU_MONGO_MEMBERS, 10);
const service = process.env.SCEAU_MONGO_SERVICE;
const replicaSet = process.env.SCEAU_MONGO_REPLICA_SET;
if (!(members >= 1) || !service || !replicaSet) {
  throw new Error("SCEAU_MONGO_MEMBERS, SCEAU_MONGO_SERVICE and SCEAU_MONGO_REPLICA_SET are required");
}

function initiated() {
  try {
    return rs.status().ok === 1;
  } catch (e) {
    if (e.codeName === "NotYetInitialized") return false;
    throw e;
  }
}

if (initiated()) {
  print(`replica set ${replicaSet} already initiated`);
} else {
  const config = {
    _id: replicaSet,
    members: Array.from({ length: members }, (_, i) => ({
      _id: i,
      host: `${service}-${i}.${service}:27017`,
      // Member 0 is preferred as primary only to make the first election predictable.
      priority: i === 0 ? 2 : 1,
    })),
  };
  // rs.initiate checks that every member answers: the other pods may still be starting.
  for (let attempt = 1; ; attempt++) {
    try {
      rs.initiate(config);
      print(`replica set ${replicaSet} initiated with ${members} member(s)`);
      break;
    } catch (e) {
      if (attempt >= 60) throw e;
      print(`rs.initiate not possible yet (${e.message}); retrying in 5 s`);
      sleep(5000);
    }
  }
}
