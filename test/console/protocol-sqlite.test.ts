import { defineProtocolTests } from "./protocol-suite.js";
import { sqliteConsole } from "./helpers.js";

defineProtocolTests("SQLite", () => sqliteConsole());
