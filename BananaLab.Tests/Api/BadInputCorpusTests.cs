using Xunit.Abstractions;
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
public sealed class BadInputCorpusTests(BananaLabFactory factory, ITestOutputHelper output) : IClassFixture<BananaLabFactory>
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

    [Fact]
    public async Task Every_mapped_endpoint_answers_malformed_input_in_its_own_envelope_and_charges_nothing()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 30);
        var admin = await factory.Services.GetRequiredService<BananaLab.Core.Users.UserService>()
            .CreateAsync($"{Guid.NewGuid():N}@example.test", "Corpus admin", BananaLab.Core.Users.UserRole.Admin, initialCredits: 30);
        var adminKey = (await factory.Services.GetRequiredService<BananaLab.Core.Users.ApiKeyService>().CreateAsync(admin.Id, "corpus")).Secret;
        var session = (await (await factory.CreateClient(key).PostAsync("/login", Json("{\"endpoint_name\":\"test-model\"}"))).ReadJsonAsync())
            .GetProperty("client_session_auth_key").GetString()!;
        var endpoints = MappedEndpoints.Api(factory.Services);
        Assert.True(endpoints.Count >= 25, $"only {endpoints.Count} API endpoints found");

        var before = await SnapshotAsync();
        var problems = new List<string>();
        var sent = 0;
        foreach (var endpoint in endpoints)
        {
            // A valid key, so each request reaches the handler: the admin's for the admin API.
            using var client = factory.CreateClient(endpoint.Pattern.StartsWith("/api/v1/admin") ? adminKey : key);
            foreach (var (name, content, headers, query) in Malformed(key, session))
            {
                using var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Path + query) { Content = content };
                foreach (var (header, value) in headers) request.Headers.TryAddWithoutValidation(header, value);
                using var response = await client.SendAsync(request);
                sent++;
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                if (status >= 500 || text.Contains("server error", StringComparison.OrdinalIgnoreCase))
                    problems.Add($"{endpoint} {name}: {status} {Truncate(text)}");
                else if (MappedEndpoints.EnvelopeProblem(endpoint.Path, status, response.Content.Headers.ContentType?.MediaType, text) is { } wrong)
                    problems.Add($"{endpoint} {name}: {status} {wrong}: {Truncate(text)}");
            }
        }

        output.WriteLine($"Malformed input: {endpoints.Count} API endpoints, {sent} requests, {problems.Count} answered badly.");
        Assert.True(problems.Count == 0, $"{problems.Count} of {sent} malformed requests were answered badly:\n{string.Join("\n", problems)}");
        Assert.Equal(before, await SnapshotAsync());
        Assert.Equal(30, (await factory.Services.GetRequiredService<BananaLab.Core.Users.UserService>().FindAsync(user.Id))!.CreditBalance);
    }

    /// <summary>
    /// Bodies, content types, headers and query strings no endpoint can make sense of. Each carries every
    /// dialect's field names, so it gets past "missing field" checks to the parsing that could fail.
    /// </summary>
    private static IEnumerable<(string Name, HttpContent? Content, (string, string)[] Headers, string Query)> Malformed(string key, string session)
    {
        // The Banana key and the session key travel in the body.
        var fields = $"\"model\":\"test-model\",\"endpoint_name\":\"test-model\",\"modelKey\":\"test-model\",\"size\":\"1K\",\"apiKey\":\"{key}\",\"client_session_auth_key\":\"{session}\"";
        (string, string)[] none = [];
        HttpContent Json(string json) => new StringContent(json, Encoding.UTF8, "application/json");
        HttpContent Raw(byte[] bytes, string? type)
        {
            var content = new ByteArrayContent(bytes);
            if (type is not null) content.Headers.TryAddWithoutValidation("Content-Type", type);
            return content;
        }
        var surrogate = $"{{{fields},\"prompt\":\"a cat \\ud800 here\",\"data\":[\"a cat \\ud800 here\"],\"name\":\"k \\udfff\",\"url\":\"https://example.test/\\ud800\",\"modelInputs\":{{\"prompt\":\"a \\ud800\"}},\"term\":\"\\ud800\"}}";
        var invalidUtf8 = Encoding.UTF8.GetBytes($"{{{fields},\"prompt\":\"a cat X here\",\"data\":[\"a cat X\"],\"name\":\"X\",\"term\":\"X\",\"modelInputs\":{{\"prompt\":\"X\"}}}}")
            .SelectMany(b => b == (byte)'X' ? new byte[] { 0xC3, 0x28, 0xFF } : [b]).ToArray();

        yield return ("truncated json", Json($"{{{fields},\"prompt\":\"a ca"), none, "");
        yield return ("wrong types", Json($"{{\"apiKey\":\"{key}\",\"client_session_auth_key\":\"{session}\",\"model\":42,\"prompt\":[1],\"data\":7,\"n\":\"two\",\"count\":{{}},\"name\":false,\"url\":3,\"modelInputs\":\"x\",\"unique_id\":1,\"job_id\":[],\"callID\":{{}},\"term\":null,\"amount\":\"x\"}}"), none, "");
        yield return ("lone surrogate", Json(surrogate), none, "");
        yield return ("invalid utf-8", Raw(invalidUtf8, "application/json"), none, "");
        yield return ("huge numbers", Json($"{{{fields},\"prompt\":\"\",\"n\":1e400,\"count\":99999999999999999999999,\"num_images\":-1e309,\"seed\":1e99,\"width\":18446744073709551616,\"amount\":1e40}}"), none, "");
        yield return ("array for object", Json($"[{{{fields},\"prompt\":\"\"}}]"), none, "");
        yield return ("text/plain", new StringContent($"{{{fields},\"prompt\":\"\"}}", Encoding.UTF8, "text/plain"), none, "");
        yield return ("multipart bad boundary", Raw("--xyz\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na cat\r\n--xyz--\r\n"u8.ToArray(), "multipart/form-data; boundary=abc"), none, "");
        yield return ("multipart unterminated part", Raw("--abc\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na cat, and then noth"u8.ToArray(), "multipart/form-data; boundary=abc"), none, "");
        yield return ("form-urlencoded", new FormUrlEncodedContent(new Dictionary<string, string> { ["prompt"] = "", ["count"] = "many" }), none, "");
        yield return ("no content type", Raw("{\"prompt\":\"\"}"u8.ToArray(), null), none, "");
        yield return ("empty json", Raw([], "application/json"), none, "");
        yield return ("utf-16 charset", Raw(Encoding.Unicode.GetBytes("{\"prompt\":\"\"}"), "application/json; charset=utf-16"), none, "");
        yield return ("odd headers", Json("{\"prompt\":\"\"}"), [("Accept", "image/nonsense;q=banana"), ("Idempotency-Key", new string('k', 5000)), ("Accept-Language", "\u00e9\u00e9")], "");
        yield return ("odd query", null, none, "?page=abc&pageSize=-5&count=abc&model=%C3%28&size=%ED%A0%80&from=tomorrow&status=nope&download=maybe");
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
        yield return new("openai edit opaque mask", HttpMethod.Post, "/v1/images/edits", EditForm(ScriptedGenerator.TinyPng, withMask: true), key);
        yield return new("openai edit gif", HttpMethod.Post, "/v1/images/edits", EditForm("GIF89a................"u8.ToArray(), withMask: false), key);
        yield return new("multipart count text", HttpMethod.Post, "/api/v1/tasks", new MultipartFormDataContent
            { { new StringContent(model), "model" }, { new StringContent("a"), "prompt" }, { new StringContent("many"), "count" } }, key);
        yield return new("multipart empty file", HttpMethod.Post, "/api/v1/tasks", EmptyFileForm(model), key);
    }

    private static HttpContent Json(string json) => new StringContent(json, Encoding.UTF8, "application/json");

    private static HttpContent Clone(HttpContent content) =>
        new StringContent(content.ReadAsStringAsync().Result, Encoding.UTF8, content.Headers.ContentType?.MediaType ?? "application/json");

    /// <summary>An edit of <paramref name="image"/>; <paramref name="withMask"/> adds a mask without transparency (an RGB PNG), which masks cannot be.</summary>
    private static MultipartFormDataContent EditForm(byte[] image, bool withMask)
    {
        var form = new MultipartFormDataContent { { new ByteArrayContent(image), "image", "i.png" }, { new StringContent("a"), "prompt" } };
        if (withMask) form.Add(new ByteArrayContent(OpaqueRgbPng), "mask", "m.png");
        return form;
    }

    /// <summary>A 1×1 PNG of colour type 2 (RGB, no alpha, no tRNS).</summary>
    private static readonly byte[] OpaqueRgbPng =
        Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC");

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
