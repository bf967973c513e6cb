// What build containers report in their termination messages, read into the result.
import { describe, expect, it } from "vitest";
import { digestFromMessage, imageIdFromMessage, resultEnv, type BuildResult } from "../../core/model.js";

const HEX = "ab".repeat(32);

describe("termination messages", () => {
  it("a pushed image's digest: buildah's and BuildKit's JSON, kaniko's bare digest", () => {
    expect(digestFromMessage(`{"digest":"sha256:${HEX}"}`)).toBe(`sha256:${HEX}`);
    expect(digestFromMessage(`{"containerimage.digest":"sha256:${HEX}","containerimage.config.digest":"sha256:${"cd".repeat(32)}"}`)).toBe(`sha256:${HEX}`);
    expect(digestFromMessage(`sha256:${HEX}\n`)).toBe(`sha256:${HEX}`);
    expect(digestFromMessage(`{"digest":"sha256:short"}`)).toBeUndefined();
  });

  it("a built image's ID: buildah's and docker's iidfile (with or without sha256:), BuildKit's config digest; none from kaniko", () => {
    expect(imageIdFromMessage(`{"imageId":"sha256:${HEX}"}`)).toBe(`sha256:${HEX}`);
    expect(imageIdFromMessage(`{"imageId":"${HEX}"}`)).toBe(`sha256:${HEX}`);
    expect(imageIdFromMessage(`{"containerimage.digest":"sha256:${"cd".repeat(32)}","containerimage.config.digest":"sha256:${HEX}"}`)).toBe(`sha256:${HEX}`);
    expect(imageIdFromMessage(`sha256:${HEX}`)).toBeUndefined();
    expect(imageIdFromMessage(`{"imageId":""}`)).toBeUndefined();
    expect(imageIdFromMessage(undefined)).toBeUndefined();
  });

  it("the result's KEY=VALUE lines say whether it pushed, and the image ID", () => {
    const r: BuildResult = {
      status: "Complete", reason: "Completed", message: "built", image: "r.example.com/a:1", tags: [], source: {},
      build: "a", run: "a-xyz", namespace: "default", pushed: false, imageId: `sha256:${HEX}`,
    };
    expect(resultEnv(r)).toContain(`BUILDPOD_PUSHED=false\nBUILDPOD_IMAGE_ID=sha256:${HEX}\n`);
    expect(resultEnv(r)).not.toContain("BUILDPOD_DIGEST");
  });
});
