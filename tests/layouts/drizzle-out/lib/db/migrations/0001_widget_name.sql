ALTER TABLE "widgets" ADD COLUMN "name" text;
