import { defineAutomationTests } from "./automation-suite.js";
import { sqliteConsole } from "./helpers.js";

defineAutomationTests("SQLite", (options) => sqliteConsole(options));
