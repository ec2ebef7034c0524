using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using BananaLab.Core.Data;
using BananaLab.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace BananaLab.Tests.Api;

/// <summary>
/// Hundreds of malformed, hostile or unauthorized requests across every endpoint: each must get a 4xx
/// (or the dialect's own error envelope) with a readable message, never a 500, and leave the tasks
/// table and the ledger exactly as they were.
/// </summary>
public sealed class BadInputCorpusTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private sealed record Probe(string Name, HttpMethod Method, string Path, HttpContent? Content, string? Key);

    [Fact]
    public async Task Every_bad_request_is_refused_clearly_and_changes_nothing()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 30);
        var (_, poorKey) = await factory.CreateUserAsync(credits: 0);
        var (_, otherKey) = await factory.CreateUserAsync();
        using var otherClient = factory.CreateClient(otherKey);
        var foreignTask = await otherClient.WaitForTerminalAsync((await otherClient.SubmitAsync(new { model = BananaLabFactory.TestModel, prompt = "other's" })).Id);
        var revoked = await (await factory.CreateClient(key).PostAsync("/api/v1/keys", Json("{\"name\":\"old\"}"))).ReadJsonAsync();
        await factory.CreateClient(key).DeleteAsync($"/api/v1/keys/{revoked.GetProperty("id").GetGuid()}");
        var revokedKey = revoked.GetProperty("key").GetString()!;
        var session = (await (await factory.CreateClient(key).PostAsync("/login", Json("{\"endpoint_name\":\"test-model\"}"))).ReadJsonAsync())
            .GetProperty("client_session_auth_key").GetString()!;

        var probes = Corpus(key, poorKey, revokedKey, session, foreignTask.Id).ToList();
        Assert.True(probes.Count >= 150, $"the corpus has only {probes.Count} requests");

        var before = await SnapshotAsync();
        var problems = new List<string>();
        foreach (var probe in probes)
        {
            using var client = probe.Key is null ? factory.CreateClient() : factory.CreateClient(probe.Key);
            using var request = new HttpRequestMessage(probe.Method, probe.Path) { Content = probe.Content };
            using var response = await client.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            var status = (int)response.StatusCode;
            var bananaEnvelope = probe.Path.StartsWith("/start") || probe.Path.StartsWith("/check");
            if (bananaEnvelope ? status != 200 || !text.Contains("error") : status is < 400 or >= 500)
                problems.Add($"{probe.Name}: {status} {Truncate(text)}");
            else if (!HasReadableMessage(text))
                problems.Add($"{probe.Name}: no readable message in {Truncate(text)}");
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(before, await SnapshotAsync());
    }

    private IEnumerable<Probe> Corpus(string key, string poorKey, string revokedKey, string session, Guid foreignTaskId)
    {
        const string model = BananaLabFactory.TestModel;
        var png = Convert.ToBase64String(ScriptedGenerator.TinyPng);
        var truncatedPng = Convert.ToBase64String(ScriptedGenerator.TinyPng[..30]);
        var hugePng = Convert.ToBase64String(HugePngHeader());
        var fakePng = Convert.ToBase64String("GIF89a this is not a png at all, really"u8.ToArray());

        // The same bad generation inputs, in each dialect's own spelling.
        var badFields = new (string Name, string Native, string Snake)[]
        {
            ("empty prompt", "\"prompt\":\"\"", "\"prompt\":\"\""),
            ("blank prompt", "\"prompt\":\"   \"", "\"prompt\":\"   \""),
            ("prompt number", "\"prompt\":42", "\"prompt\":42"),
            ("prompt array", "\"prompt\":[\"a\"]", "\"prompt\":[\"a\"]"),
            ("huge prompt", $"\"prompt\":\"{new string('x', 5000)}\"", $"\"prompt\":\"{new string('x', 5000)}\""),
            ("negative count", "\"prompt\":\"a\",\"count\":-1", "\"prompt\":\"a\",\"num_images\":-1"),
            ("zero count", "\"prompt\":\"a\",\"count\":0", "\"prompt\":\"a\",\"num_images\":0"),
            ("huge count", "\"prompt\":\"a\",\"count\":100000", "\"prompt\":\"a\",\"num_images\":100000"),
            ("count string", "\"prompt\":\"a\",\"count\":\"two\"", "\"prompt\":\"a\",\"num_images\":\"two\""),
            ("count overflow", "\"prompt\":\"a\",\"count\":99999999999999999999", "\"prompt\":\"a\",\"num_images\":99999999999999999999"),
            ("count fraction", "\"prompt\":\"a\",\"count\":1.5", "\"prompt\":\"a\",\"num_images\":1.5"),
            ("negative seed", "\"prompt\":\"a\",\"seed\":-5", "\"prompt\":\"a\",\"seed\":-5"),
            ("huge seed", "\"prompt\":\"a\",\"seed\":99999999999", "\"prompt\":\"a\",\"seed\":99999999999"),
            ("zero steps", "\"prompt\":\"a\",\"steps\":0", "\"prompt\":\"a\",\"num_inference_steps\":0"),
            ("huge steps", "\"prompt\":\"a\",\"steps\":100000", "\"prompt\":\"a\",\"num_inference_steps\":100000"),
            ("negative guidance", "\"prompt\":\"a\",\"guidance\":-1", "\"prompt\":\"a\",\"guidance_scale\":-1"),
            ("huge guidance", "\"prompt\":\"a\",\"guidance\":1e300", "\"prompt\":\"a\",\"guidance_scale\":1e300"),
            ("unknown size", "\"prompt\":\"a\",\"size\":\"8K\"", "\"prompt\":\"a\",\"size\":\"8K\""),
            ("size not offered", "\"prompt\":\"a\",\"size\":\"4K\"", "\"prompt\":\"a\",\"size\":\"4K\""),
            ("tiny width", "\"prompt\":\"a\",\"width\":8,\"height\":512", "\"prompt\":\"a\",\"width\":8,\"height\":512"),
            ("huge width", "\"prompt\":\"a\",\"width\":100000,\"height\":512", "\"prompt\":\"a\",\"width\":100000,\"height\":512"),
            ("negative height", "\"prompt\":\"a\",\"width\":512,\"height\":-512", "\"prompt\":\"a\",\"width\":512,\"height\":-512"),
            ("width only", "\"prompt\":\"a\",\"width\":512", "\"prompt\":\"a\",\"width\":512"),
            ("bad aspect", "\"prompt\":\"a\",\"aspectRatio\":\"7:3\"", "\"prompt\":\"a\",\"aspect_ratio\":\"7:3\""),
            ("bad format", "\"prompt\":\"a\",\"outputFormat\":\"bmp\"", "\"prompt\":\"a\",\"output_format\":\"bmp\""),
            ("bad base64", "\"prompt\":\"a\",\"referenceImage\":\"!!!notbase64!!!\"", "\"prompt\":\"a\",\"reference_image\":\"!!!notbase64!!!\""),
            ("truncated png", $"\"prompt\":\"a\",\"referenceImage\":\"{truncatedPng}\"", $"\"prompt\":\"a\",\"reference_image\":\"{truncatedPng}\""),
            ("disguised gif", $"\"prompt\":\"a\",\"referenceImage\":\"{fakePng}\"", $"\"prompt\":\"a\",\"reference_image\":\"{fakePng}\""),
            ("pixel bomb", $"\"prompt\":\"a\",\"referenceImage\":\"{hugePng}\"", $"\"prompt\":\"a\",\"reference_image\":\"{hugePng}\""),
            ("bad strength", $"\"prompt\":\"a\",\"referenceImage\":\"{png}\",\"referenceStrength\":7", $"\"prompt\":\"a\",\"reference_image\":\"{png}\",\"strength\":7"),
            ("private webhook", "\"prompt\":\"a\",\"webhookUrl\":\"http://192.168.1.1/\"", "\"prompt\":\"a\",\"webhook_url\":\"http://192.168.1.1/\""),
            ("blocked prompt", "\"prompt\":\"pure gore\"", "\"prompt\":\"pure gore\""),
            ("blocked negative", "\"prompt\":\"a\",\"negativePrompt\":\"no beheading\"", "\"prompt\":\"a\",\"negative_prompt\":\"no beheading\""),
            ("too expensive", "\"prompt\":\"a\",\"size\":\"2K\",\"count\":4", "\"prompt\":\"a\",\"size\":\"2K\",\"num_images\":4"),
        };

        foreach (var (name, native, snake) in badFields)
        {
            yield return new($"native {name}", HttpMethod.Post, "/api/v1/tasks", Json($"{{\"model\":\"{model}\",{native}}}"), key);
            yield return new($"banana {name}", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{key}\",\"modelKey\":\"{model}\",\"modelInputs\":{{{snake}}}}}"), null);
            yield return new($"session {name}", HttpMethod.Post, "/endpoint", Json($"{{\"client_session_auth_key\":\"{session}\",{snake}}}"), null);
            yield return new($"fastdeploy {name}", HttpMethod.Post, "/sync", Json($"{{\"data\":[{{{snake}}}]}}"), key);
            yield return new($"bento {name}", HttpMethod.Post, "/generate", Json($"{{{snake}}}"), key);
        }

        // Broken bodies on every JSON endpoint.
        var bodies = new (string Name, HttpContent Content)[]
        {
            ("truncated json", Json("{\"prompt\": ")), ("not json", Json("hello")), ("json array", Json("[1,2]")), ("json string", Json("\"x\"")),
            ("wrong content type", new StringContent("prompt=a", Encoding.UTF8, "text/plain")),
        };
        foreach (var path in new[] { "/api/v1/tasks", "/start/v4", "/check/v4", "/endpoint", "/endpoint/progress", "/sync", "/async", "/result", "/generate", "/v1/images/generations", "/login" })
            foreach (var (name, content) in bodies)
                yield return new($"{path} {name}", HttpMethod.Post, path, Clone(content), key);

        // Who may call what.
        foreach (var badKey in new[] { "", "bl_nonsense", revokedKey, new string('k', 500) })
        {
            var label = badKey.Length > 20 ? badKey[..12] + "…" : badKey;
            yield return new($"native list key '{label}'", HttpMethod.Get, "/api/v1/tasks", null, badKey);
            yield return new($"native submit key '{label}'", HttpMethod.Post, "/api/v1/tasks", Json($"{{\"model\":\"{model}\",\"prompt\":\"a\"}}"), badKey);
            yield return new($"banana key '{label}'", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{badKey}\",\"modelKey\":\"{model}\",\"modelInputs\":{{\"prompt\":\"a\"}}}}"), null);
            yield return new($"fastdeploy key '{label}'", HttpMethod.Post, "/sync", Json("{\"data\":[\"a\"]}"), badKey);
            yield return new($"bento key '{label}'", HttpMethod.Post, "/generate", Json("{\"prompt\":\"a\"}"), badKey);
            yield return new($"openai key '{label}'", HttpMethod.Post, "/v1/images/generations", Json("{\"prompt\":\"a\"}"), badKey);
            yield return new($"login key '{label}'", HttpMethod.Post, "/login", Json($"{{\"endpoint_name\":\"{model}\",\"api_key\":\"{badKey}\"}}"), null);
        }
        yield return new("poor user native", HttpMethod.Post, "/api/v1/tasks", Json($"{{\"model\":\"{model}\",\"prompt\":\"a\"}}"), poorKey);
        yield return new("poor user openai", HttpMethod.Post, "/v1/images/generations", Json("{\"prompt\":\"a\"}"), poorKey);

        // Someone else's ids.
        yield return new("foreign task", HttpMethod.Get, $"/api/v1/tasks/{foreignTaskId}", null, key);
        yield return new("foreign image", HttpMethod.Get, $"/api/v1/tasks/{foreignTaskId}/images/0", null, key);
        yield return new("foreign cancel", HttpMethod.Post, $"/api/v1/tasks/{foreignTaskId}/cancel", null, key);
        yield return new("foreign webhook log", HttpMethod.Get, $"/api/v1/tasks/{foreignTaskId}/webhooks", null, key);
        yield return new("foreign banana check", HttpMethod.Post, "/check/v4", Json($"{{\"apiKey\":\"{key}\",\"callID\":\"call_{foreignTaskId:N}\"}}"), null);
        yield return new("foreign session job", HttpMethod.Post, "/endpoint/progress", Json($"{{\"client_session_auth_key\":\"{session}\",\"job_id\":\"{foreignTaskId:N}\"}}"), null);
        yield return new("foreign fastdeploy result", HttpMethod.Post, "/result", Json($"{{\"unique_id\":\"{foreignTaskId:N}\"}}"), key);
        yield return new("unknown task", HttpMethod.Get, $"/api/v1/tasks/{Guid.NewGuid()}", null, key);
        yield return new("bad image index", HttpMethod.Get, $"/api/v1/tasks/{foreignTaskId}/images/-1", null, key);
        yield return new("forged file link", HttpMethod.Get, "/files/CfDJ8forged-token", null, null);
        yield return new("unknown key revoke", HttpMethod.Delete, $"/api/v1/keys/{Guid.NewGuid()}", null, key);
        yield return new("cancel finished", HttpMethod.Post, $"/api/v1/tasks/{foreignTaskId}/cancel", null, BananaLabFactory.AdminApiKey);

        // Odd values on the remaining surfaces.
        yield return new("pricing unknown model", HttpMethod.Get, "/api/v1/pricing?model=nope", null, key);
        yield return new("pricing bad size", HttpMethod.Get, $"/api/v1/pricing?model={model}&size=9K", null, key);
        yield return new("pricing bad count", HttpMethod.Get, $"/api/v1/pricing?model={model}&count=-3", null, key);
        yield return new("pricing count text", HttpMethod.Get, $"/api/v1/pricing?model={model}&count=abc", null, key);
        yield return new("list bad page", HttpMethod.Get, "/api/v1/tasks?page=abc", null, key);
        yield return new("list bad date", HttpMethod.Get, "/api/v1/tasks?from=yesterday", null, key);
        yield return new("key name too long", HttpMethod.Post, "/api/v1/keys", Json($"{{\"name\":\"{new string('n', 200)}\"}}"), key);
        yield return new("webhook bad url", HttpMethod.Put, "/api/v1/webhook", Json("{\"url\":\"gopher://x\"}"), key);
        yield return new("banana no inputs", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{key}\",\"modelKey\":\"{model}\"}}"), null);
        yield return new("banana inputs array", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{key}\",\"modelKey\":\"{model}\",\"modelInputs\":[]}}"), null);
        yield return new("banana unknown model", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{key}\",\"modelKey\":\"nope\",\"modelInputs\":{{\"prompt\":\"a\"}}}}"), null);
        yield return new("banana startOnly string", HttpMethod.Post, "/start/v4", Json($"{{\"apiKey\":\"{key}\",\"modelKey\":\"{model}\",\"startOnly\":\"yes\",\"modelInputs\":{{\"prompt\":\"a\"}}}}"), null);
        yield return new("banana bad call id", HttpMethod.Post, "/check/v4", Json($"{{\"apiKey\":\"{key}\",\"callID\":42}}"), null);
        yield return new("session unknown model", HttpMethod.Post, "/login", Json("{\"endpoint_name\":\"nope\"}"), key);
        yield return new("session expired key", HttpMethod.Post, "/endpoint", Json("{\"client_session_auth_key\":\"7511a186-b0c6-4901-b228-68faea2b07f4\",\"prompt\":\"a\"}"), null);
        yield return new("session bad job id", HttpMethod.Post, "/endpoint/progress", Json($"{{\"client_session_auth_key\":\"{session}\",\"job_id\":\"JID1\"}}"), null);
        yield return new("fastdeploy too many", HttpMethod.Post, "/sync", Json($"{{\"data\":[{string.Join(",", Enumerable.Repeat("\"a\"", 65))}]}}"), key);
        yield return new("fastdeploy file not string", HttpMethod.Post, "/sync", Json("{\"data\":{\"a.png\":[1]},\"params\":{\"prompt\":\"a\"}}"), key);
        yield return new("fastdeploy file no prompt", HttpMethod.Post, "/sync", Json($"{{\"data\":{{\"a.png\":\"{png}\"}}}}"), key);
        yield return new("openai bad size", HttpMethod.Post, "/v1/images/generations", Json("{\"prompt\":\"a\",\"size\":\"1024\"}"), key);
        yield return new("openai n string", HttpMethod.Post, "/v1/images/generations", Json("{\"prompt\":\"a\",\"n\":\"2\"}"), key);
        yield return new("openai bad format", HttpMethod.Post, "/v1/images/generations", Json("{\"prompt\":\"a\",\"response_format\":\"png\"}"), key);
        yield return new("openai edit json", HttpMethod.Post, "/v1/images/edits", Json("{\"prompt\":\"a\"}"), key);
        yield return new("openai edit no image", HttpMethod.Post, "/v1/images/edits", new MultipartFormDataContent { { new StringContent("a"), "prompt" } }, key);
        yield return new("openai edit mask", HttpMethod.Post, "/v1/images/edits", EditForm(ScriptedGenerator.TinyPng, withMask: true), key);
        yield return new("openai edit gif", HttpMethod.Post, "/v1/images/edits", EditForm("GIF89a................"u8.ToArray(), withMask: false), key);
        yield return new("multipart count text", HttpMethod.Post, "/api/v1/tasks", new MultipartFormDataContent
            { { new StringContent(model), "model" }, { new StringContent("a"), "prompt" }, { new StringContent("many"), "count" } }, key);
        yield return new("multipart empty file", HttpMethod.Post, "/api/v1/tasks", EmptyFileForm(model), key);
    }

    private static HttpContent Json(string json) => new StringContent(json, Encoding.UTF8, "application/json");

    private static HttpContent Clone(HttpContent content) =>
        new StringContent(content.ReadAsStringAsync().Result, Encoding.UTF8, content.Headers.ContentType?.MediaType ?? "application/json");

    private static MultipartFormDataContent EditForm(byte[] image, bool withMask)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "i.png" }, { new StringContent("a"), "prompt" } };
        if (withMask) form.Add(new ByteArrayContent(image), "mask", "m.png");
        return form;
    }

    private static MultipartFormDataContent EmptyFileForm(string model)
    {
        var file = new ByteArrayContent([]);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return new MultipartFormDataContent { { new StringContent(model), "model" }, { new StringContent("a"), "prompt" }, { file, "referenceImage", "empty.png" } };
    }

    /// <summary>A PNG header claiming 100000×100000 pixels: refused from the header, never decoded.</summary>
    private static byte[] HugePngHeader()
    {
        var png = ScriptedGenerator.TinyPng.ToArray();
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(16), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(png.AsSpan(20), 100_000);
        return png;
    }

    private static bool HasReadableMessage(string text)
    {
        try
        {
            var root = JsonDocument.Parse(text).RootElement;
            foreach (var field in new[] { "detail", "message", "reason", "error" })
                if (root.TryGetProperty(field, out var value))
                    return value.ValueKind == JsonValueKind.String ? value.GetString()!.Length > 3
                        : value.TryGetProperty("message", out var nested) && nested.GetString()!.Length > 3;
            return false;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] + "…" : text;

    /// <summary>Tasks that could run or cost anything, ledger entries and balances; blocked prompts are kept for moderation review.</summary>
    private async Task<(int Tasks, int Entries, long Balances)> SnapshotAsync()
    {
        await using var db = await factory.Services.GetRequiredService<IDbContextFactory<BananaLabDbContext>>().CreateDbContextAsync();
        return (await db.Tasks.CountAsync(t => t.Status != BananaLab.Core.Tasks.GenerationTaskStatus.Blocked),
            await db.CreditEntries.CountAsync(), await db.Users.SumAsync(u => (long)u.CreditBalance));
    }
}
