CREATE TABLE "widgets" (
	"id" serial PRIMARY KEY NOT NULL
);
