-- CreateTable
CREATE TABLE "gateway_rate_limits" (
    "key" TEXT NOT NULL,
    "points" INTEGER NOT NULL,
    "expire" TIMESTAMPTZ(3),

    CONSTRAINT "gateway_rate_limits_pkey" PRIMARY KEY ("key")
);
