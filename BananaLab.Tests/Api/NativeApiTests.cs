using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api;

/// <summary>The rest of the native v1 surface: listing, multipart, idempotency, keys, ledger, OpenAPI.</summary>
public sealed class NativeApiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private const string Model = BananaLabFactory.TestModel;

    [Fact]
    public async Task Task_list_pages_and_filters_the_callers_tasks_only()
    {
        var (_, key) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var other = factory.CreateClient(otherKey);
        await other.SubmitAsync(new { model = Model, prompt = "not yours" });
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++) ids.Add((await client.SubmitAsync(new { model = Model, prompt = $"banana number {i}" })).Id);
        var failed = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = Model, prompt = "sad [fail]" })).Id);
        foreach (var id in ids) await client.WaitForTerminalAsync(id);

        var page = await (await client.GetAsync("/api/v1/tasks?pageSize=2&page=2")).ReadJsonAsync();
        Assert.Equal(6, page.GetProperty("total").GetInt32());
        Assert.Equal(2, page.GetProperty("items").GetArrayLength());
        Assert.Equal(ids[3], page.GetProperty("items")[0].GetProperty("id").GetGuid());

        var onlyFailed = await (await client.GetAsync("/api/v1/tasks?status=failed")).ReadJsonAsync();
        Assert.Equal(failed.Id, Assert.Single(onlyFailed.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());

        var search = await (await client.GetAsync("/api/v1/tasks?search=NUMBER%203")).ReadJsonAsync();
        Assert.Equal(ids[3], Assert.Single(search.GetProperty("items").EnumerateArray()).GetProperty("id").GetGuid());

        var future = await (await client.GetAsync($"/api/v1/tasks?from={DateTime.UtcNow.AddDays(1):O}")).ReadJsonAsync();
        Assert.Equal(0, future.GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Multipart_create_accepts_a_reference_image_file()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(Model), "model" },
            { new StringContent("like this one"), "prompt" },
            { new StringContent("2"), "count" },
            { new StringContent("0.4"), "referenceStrength" },
        };
        var file = new ByteArrayContent(ScriptedGenerator.TinyPng);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        form.Add(file, "referenceImage", "ref.png");

        var response = await client.PostAsync("/api/v1/tasks", form);

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var task = await response.ReadJsonAsync();
        Assert.True(task.GetProperty("hasReferenceImage").GetBoolean());
        Assert.Equal(2, task.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Multipart_with_a_non_numeric_count_is_a_clear_bad_request()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        using var form = new MultipartFormDataContent { { new StringContent(Model), "model" }, { new StringContent("x"), "prompt" }, { new StringContent("two"), "count" } };
        var response = await client.PostAsync("/api/v1/tasks", form);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'count'", (await response.ReadJsonAsync()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Idempotency_key_replays_the_first_response_and_refuses_another_body()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        async Task<HttpResponseMessage> Post(object body)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/tasks") { Content = JsonContent.Create(body) };
            request.Headers.Add("Idempotency-Key", "order-42");
            return await client.SendAsync(request);
        }

        var first = await Post(new { model = Model, prompt = "once only" });
        var again = await Post(new { model = Model, prompt = "once only" });
        var different = await Post(new { model = Model, prompt = "something else" });

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal((await first.ReadJsonAsync()).GetProperty("id").GetGuid(), (await again.ReadJsonAsync()).GetProperty("id").GetGuid());
        Assert.Equal("true", again.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);
        Assert.Equal("idempotency_key_reused", (await different.ReadJsonAsync()).GetProperty("code").GetString());
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(95, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task Api_keys_are_shown_once_listed_by_prefix_and_revocable()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var created = await (await client.PostAsJsonAsync("/api/v1/keys", new { name = "ci" })).ReadJsonAsync();
        var secret = created.GetProperty("key").GetString()!;
        var list = await (await client.GetAsync("/api/v1/keys")).ReadJsonAsync();
        var listed = list.EnumerateArray().Single(k => k.GetProperty("name").GetString() == "ci");
        Assert.StartsWith(listed.GetProperty("prefix").GetString()!, secret);
        Assert.False(listed.TryGetProperty("key", out _));

        using var newClient = factory.CreateClient(secret);
        Assert.Equal(HttpStatusCode.OK, (await newClient.GetAsync("/api/v1/credits")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/v1/keys/{created.GetProperty("id").GetGuid()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await newClient.GetAsync("/api/v1/credits")).StatusCode);
    }

    [Fact]
    public async Task Ledger_lists_grants_reserves_and_captures_newest_first()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 40);
        using var client = factory.CreateClient(key);
        await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = Model, prompt = "ledger" })).Id);

        var ledger = await (await client.GetAsync("/api/v1/credits/ledger")).ReadJsonAsync();
        var kinds = ledger.GetProperty("entries").EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        Assert.Equal(["capture", "reserve", "grant"], kinds);
    }

    [Fact]
    public async Task OpenApi_document_and_reference_page_are_served()
    {
        using var client = factory.CreateClient();
        var document = await (await client.GetAsync("/openapi/v1.json")).ReadJsonAsync();
        Assert.True(document.GetProperty("paths").TryGetProperty("/api/v1/tasks", out _));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/scalar/v1")).StatusCode);
    }
}
