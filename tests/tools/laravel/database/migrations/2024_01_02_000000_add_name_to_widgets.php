<?php

use Illuminate\Database\Migrations\Migration;
use Illuminate\Database\Schema\Blueprint;
use Illuminate\Support\Facades\Schema;

return new class extends Migration {
    public function up(): void
    {
        Schema::table('widgets', fn (Blueprint $table) => $table->text('name')->nullable());
    }

    public function down(): void
    {
        Schema::table('widgets', fn (Blueprint $table) => $table->dropColumn('name'));
    }
};
