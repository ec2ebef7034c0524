// The OpenAI Node SDK against BananaLab's OpenAI dialect: one line per call, PASS or FAIL with the reason.
import OpenAI, { toFile } from "openai";

const baseURL = `${process.env.BASE_URL.replace(/\/$/, "")}/v1`;
const model = process.env.MODEL;
const client = new OpenAI({ baseURL, apiKey: process.env.API_KEY, maxRetries: 0, timeout: 300_000 });
const results = [];

async function check(name, call) {
  try {
    const detail = await call();
    results.push(true);
    console.log(`PASS ${name}${detail ? `: ${detail}` : ""}`);
  } catch (e) {
    results.push(false);
    console.log(`FAIL ${name}: ${e?.constructor?.name ?? "Error"} ${e?.status ?? ""} ${e?.message ?? e}`);
  }
}

function expect(condition, message) { if (!condition) throw new Error(message); }

const png = (b64) => Buffer.from(b64, "base64");
const isPng = (bytes) => bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

/** An opaque 64×64 PNG (the image) or one whose left half is transparent (the mask), written without dependencies. */
function makePng(transparentLeft) {
  const zlib = await_zlib;
  const width = 64, height = 64;
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 4 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const o = y * (width * 4 + 1) + 1 + x * 4;
      raw[o] = 200; raw[o + 1] = 120 + y; raw[o + 2] = 40 + x; raw[o + 3] = transparentLeft && x < width / 2 ? 0 : 255;
    }
  }
  const chunk = (type, data) => {
    const length = Buffer.alloc(4); length.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0); header.writeUInt32BE(height, 4); header[8] = 8; header[9] = 6;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", header),
    chunk("IDAT", zlib.deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

function crc32(bytes) {
  let c, crc = 0xffffffff;
  for (const b of bytes) { c = (crc ^ b) & 0xff; for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1; crc = (crc >>> 8) ^ c; }
  return crc ^ 0xffffffff;
}

const await_zlib = await import("node:zlib");
const image = makePng(false), mask = makePng(true);

await check("images.generate b64_json", async () => {
  const r = await client.images.generate({ model, prompt: "a yellow banana", size: "1024x1024", response_format: "b64_json" });
  expect(isPng(png(r.data[0].b64_json)), "not a PNG");
  return `${png(r.data[0].b64_json).length} bytes`;
});
await check("images.generate url", async () => {
  const r = await client.images.generate({ model, prompt: "a red apple", n: 2 });
  expect(r.data.length === 2, `${r.data.length} images`);
  const bytes = Buffer.from(await (await fetch(r.data[0].url)).arrayBuffer());
  expect(isPng(bytes), "the URL did not give a PNG");
});
await check("images.edit with mask", async () => {
  const r = await client.images.edit({ model, prompt: "a blue sky", image: await toFile(image, "image.png", { type: "image/png" }),
    mask: await toFile(mask, "mask.png", { type: "image/png" }), size: "256x256", response_format: "b64_json" });
  expect(isPng(png(r.data[0].b64_json)), "not a PNG");
});
await check("images.createVariation", async () => {
  const r = await client.images.createVariation({ model, image: await toFile(image, "image.png", { type: "image/png" }), response_format: "b64_json" });
  expect(isPng(png(r.data[0].b64_json)), "not a PNG");
});
await check("images.generate stream with partial_images", async () => {
  const stream = await client.images.generate({ model, prompt: "a green pear", stream: true, partial_images: 2, size: "1024x1024" });
  const types = [];
  for await (const event of stream) types.push(event.type);
  expect(types.at(-1) === "image_generation.completed", `events: ${types.join(", ") || "none"}`);
  expect(types.includes("image_generation.partial_image"), `no partial image in ${types.join(", ")}`);
  return types.join(", ");
});
const refused = (name, status, call, code) => check(name, async () => {
  try { await call(); } catch (e) {
    expect(e instanceof OpenAI.APIError, `${e?.constructor?.name}`);
    expect(e.status === status, `status ${e.status}, expected ${status}`);
    if (code) expect(e.code === code, `code ${e.code}, expected ${code}`);
    expect(typeof e.type === "string" && !e.type.startsWith("http"), `the body is not OpenAI's error envelope (type ${e.type})`);
    return `${e.constructor.name} ${e.status} ${e.code ?? ""} param=${e.param ?? ""}`;
  }
  throw new Error("no error");
});
await refused("unknown model", 400, () => client.images.generate({ model: "no-such-model", prompt: "x" }));
await refused("bad size", 400, () => client.images.generate({ model, prompt: "x", size: "7x7" }));
await refused("bad quality", 400, () => client.images.generate({ model, prompt: "x", quality: "ultra" }));
await refused("content policy", 400, () => client.images.generate({ model, prompt: "csam" }), "content_policy_violation");
await refused("bad key", 401, () => new OpenAI({ baseURL, apiKey: "bl_wrong", maxRetries: 0 }).images.generate({ model, prompt: "x" }));
await refused("unknown route", 404, () => client.get("/no/such/route"));

const passed = results.filter(Boolean).length;
console.log(`${passed} passed, ${results.length - passed} failed`);
process.exit(passed === results.length ? 0 : 1);
