-- The stored part of each chain's RFC 9162 Merkle tree (lib/evidence/merkle-state/): roots of
-- the complete, aligned subtrees of 2^level events, level >= 8, so that a chain head, a
-- checkpoint or a proof reads O(log n) rows instead of every event hash. Filled after commit
-- by the appending process and caught up by any reader that finds it behind; derived data,
-- so it is not append-only like the events themselves.
-- CreateTable
CREATE TABLE "audit_merkle_nodes" (
    "chain_id" TEXT NOT NULL,
    "level" SMALLINT NOT NULL,
    "idx" INTEGER NOT NULL,
    "hash" BYTEA NOT NULL,

    CONSTRAINT "audit_merkle_nodes_pkey" PRIMARY KEY ("chain_id","level","idx")
);
