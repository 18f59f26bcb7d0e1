-- AlterTable
ALTER TABLE "widgets" ADD COLUMN "name" TEXT;
