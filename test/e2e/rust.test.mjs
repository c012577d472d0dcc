// End-to-end scenarios of the rust wrapper (see scenarios.mjs).
import { defineScenarios } from "./scenarios.mjs";
import { RUST } from "./langs.mjs";

defineScenarios(RUST);
