-- CreateTable
CREATE TABLE "control_policy_baselines" (
    "name" TEXT NOT NULL,
    "current_snapshot_id" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "control_policy_baselines_pkey" PRIMARY KEY ("name")
);

-- CreateTable
CREATE TABLE "control_policy_snapshots" (
    "snapshot_id" TEXT NOT NULL,
    "baseline" TEXT NOT NULL,
    "version" INTEGER NOT NULL,
    "text" TEXT NOT NULL,
    "issuer" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "control_policy_snapshots_pkey" PRIMARY KEY ("snapshot_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "control_policy_snapshots_baseline_version_key" ON "control_policy_snapshots"("baseline", "version");

-- Policy snapshots are immutable: a change is a new snapshot.
CREATE TRIGGER control_policy_snapshots_append_only
  BEFORE UPDATE OR DELETE ON "control_policy_snapshots"
  FOR EACH ROW EXECUTE FUNCTION audit_reject_change();
