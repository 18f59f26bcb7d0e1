-- CreateTable
CREATE TABLE "widgets" (
    "id" SERIAL NOT NULL,
    CONSTRAINT "widgets_pkey" PRIMARY KEY ("id")
);
