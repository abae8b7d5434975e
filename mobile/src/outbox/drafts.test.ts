// @vitest-environment node
// (Node's own Blob is cloned into IndexedDB as a browser's is; jsdom's is not)
import "fake-indexeddb/auto";
import { afterEach, describe, expect, it } from "vitest";
import { closeDb, getDraft, putDraft } from "./db";
import { caseInput, draftContents, emptyDraft, fromDraft, localKeys, resolveAnswers, toDraft, LOCAL_PREFIX } from "./drafts";

afterEach(async () => {
  closeDb();
  indexedDB.deleteDatabase("jinshao-phone");
});

const template = { id: 7, code: "ZDJY", name: "占道经营", fields: [] } as never;
const form = () => ({
  community: 3,
  title: "占道经营",
  description: "村口有摊贩",
  answers: { stall_count: "3", site_photo: [`${LOCAL_PREFIX}p-1`, `${LOCAL_PREFIX}p-2`] },
  address: "华严村村委会门口",
  latitude: "30.917600",
  longitude: "121.474100",
});

describe("drafts", () => {
  it("keep everything the form holds, photos no longer in the form left out", () => {
    const photos = ["p-1", "p-2", "p-gone"].map((key) => ({ key, field: "site_photo", blob: new Blob([key]), name: `${key}.jpg` }));
    const draft = toDraft(
      emptyDraft("d-1", 1),
      form(),
      { template, communityName: "华严村", picks: [{ department: { id: 9, name: "城管" }, people: [4, 5] }], photos, voices: [] },
      2,
    );
    expect(draft.updatedAt).toBe(2);
    expect(draft.photos.map((p) => p.key)).toEqual(["p-1", "p-2"]);
    expect(fromDraft(draft)).toEqual(form());
    expect(draftContents(draft)).toEqual({ photos: 2, voices: 0, people: 2, located: true });
    expect(caseInput(draft, draft.answers, true).invitees).toEqual([
      { department: 9, person: 4 },
      { department: 9, person: 5 },
    ]);
  });

  it("the form's state is copied, not shared", () => {
    const f = form();
    const draft = toDraft(emptyDraft("d-1"), f, { template: null, communityName: "", picks: [], photos: [], voices: [] });
    (f.answers.site_photo as string[]).push("x");
    expect(draft.answers.site_photo).toHaveLength(2);
  });

  it("survive a round trip through IndexedDB, Blobs included", async () => {
    const voice = { key: "v-1", blob: new Blob([new Uint8Array([82, 73, 70, 70])], { type: "audio/wav" }), name: "voice.wav", durationMs: 1500 };
    const photo = { key: "p-1", field: "", blob: new Blob([new Uint8Array([255, 216, 255])], { type: "image/jpeg" }), name: "a.jpg" };
    const draft = toDraft(emptyDraft("d-2"), form(), { template, communityName: "华严村", picks: [], photos: [photo], voices: [voice] });
    await putDraft(draft);
    const back = await getDraft("d-2");
    expect(back).toBeDefined();
    expect(fromDraft(back!)).toEqual(fromDraft(draft));
    expect(back!.template).toEqual(template);
    expect(back!.voices[0].durationMs).toBe(1500);
    expect(back!.voices[0].blob.size).toBe(4);
    expect(back!.photos[0].blob.type).toBe("image/jpeg");
  });

  it("local photo references become upload ids when the case is sent", () => {
    const answers = form().answers;
    expect(localKeys(answers)).toEqual(["p-1", "p-2"]);
    expect(resolveAnswers(answers, { "p-1": "u-1", "p-2": "u-2" })).toEqual({ stall_count: "3", site_photo: ["u-1", "u-2"] });
    expect(() => resolveAnswers(answers, { "p-1": "u-1" })).toThrow();
  });
});
