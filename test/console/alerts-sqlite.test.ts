import { defineAlertTests } from "./alerts-suite.js";
import { sqliteConsole } from "./helpers.js";

defineAlertTests("SQLite", (options) => sqliteConsole(options));
