// The test cluster's images are cached in its registry under a tag that is the hash of their recipe: an
// unchanged recipe finds its image (later runs take seconds), a changed one gets a new tag and is rebuilt.
import { describe, expect, it } from "vitest";
import { BUILDER_RECIPE, builderTag } from "./images.js";

describe("the builder image's tag", () => {
  it("is the same for the same recipe and changes with every part of it", () => {
    expect(builderTag()).toBe(builderTag({ ...BUILDER_RECIPE }));
    expect(builderTag()).toMatch(/^[0-9a-f]{16}$/);
    const changed = [
      { ...BUILDER_RECIPE, version: `${BUILDER_RECIPE.version}x` },
      { ...BUILDER_RECIPE, suite: "trixie" },
      { ...BUILDER_RECIPE, packages: [...BUILDER_RECIPE.packages, "jq"] },
      { ...BUILDER_RECIPE, storageConf: `${BUILDER_RECIPE.storageConf}# changed\n` },
      { ...BUILDER_RECIPE, registriesConf: `${BUILDER_RECIPE.registriesConf}# changed\n` },
      { ...BUILDER_RECIPE, containersConf: `${BUILDER_RECIPE.containersConf}# changed\n` },
      { ...BUILDER_RECIPE, env: [...BUILDER_RECIPE.env, "X=1"] },
    ].map((r) => builderTag(r));
    expect(new Set([builderTag(), ...changed]).size).toBe(changed.length + 1);
  });
});
