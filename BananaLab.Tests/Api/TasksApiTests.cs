using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using BananaLab.Core.Credits;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api;

public sealed class TasksApiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    private const string Model = BananaLabFactory.TestModel;

    [Fact]
    public async Task Get_reports_the_phase_and_eta_from_queued_to_done()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        // A finished run of the model gives the measurements an ETA needs.
        await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = Model, prompt = "measured run" })).Id);
        // A gated run holds the one worker slot, so the next task waits behind it.
        var gate = Guid.NewGuid().ToString("N");
        var running = await client.SubmitAsync(new { model = Model, prompt = $"held [gate:{gate}]" });
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while ((await client.GetTaskAsync(running.Id)).Status != "running") await Task.Delay(20, timeout.Token);
        var queued = await client.SubmitAsync(new { model = Model, prompt = "behind it" });

        var waiting = await client.GetTaskAsync(queued.Id);
        var held = await client.GetTaskAsync(running.Id);
        var json = await (await client.GetAsync($"/api/v1/tasks/{queued.Id}")).ReadJsonAsync();
        ScriptedGenerator.OpenGate(gate);
        var done = await client.WaitForTerminalAsync(queued.Id);

        Assert.Equal(("running", "denoising"), (held.Status, held.Phase));
        Assert.NotNull(held.EtaSeconds);
        Assert.Equal(("queued", "queued"), (waiting.Status, waiting.Phase));
        Assert.True(waiting.EtaSeconds >= held.EtaSeconds, $"queued {waiting.EtaSeconds} s, running {held.EtaSeconds} s");
        Assert.Equal("queued", json.GetProperty("phase").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Number, json.GetProperty("etaSeconds").ValueKind);
        Assert.Equal(("succeeded", "done", 100), (done.Status, done.Phase, done.Progress));
        Assert.Null(done.EtaSeconds);
    }

    [Fact]
    public async Task Submitted_task_succeeds_and_its_images_download_with_their_hash()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var created = await client.SubmitAsync(new { model = Model, prompt = "a banana", size = "1K", count = 2, seed = 42 });
        Assert.Equal("queued", created.Status);
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal("succeeded", done.Status);
        Assert.Equal(100, done.Progress);
        Assert.Equal((1024, 1024), (done.Width, done.Height));
        Assert.Equal(42, done.Seed);
        Assert.Equal(2, done.Images.Count);
        Assert.NotNull(done.ComputeDurationMs);
        Assert.NotNull(done.WorkerName);
        foreach (var image in done.Images)
        {
            var response = await client.GetAsync(image.Url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            Assert.Equal(image.ByteSize, bytes.Length);
            Assert.Equal(image.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            Assert.Equal($"\"{image.Sha256}\"", response.Headers.ETag?.Tag);
        }
    }

    [Fact]
    public async Task Image_download_supports_ranges()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = Model, prompt = "range" })).Id);

        var request = new HttpRequestMessage(HttpMethod.Get, done.Images[0].Url);
        request.Headers.Range = new RangeHeaderValue(10, 19);
        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(ScriptedGenerator.TinyPng[10..20], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Credits_charged_equal_price_times_count()
    {
        var (user, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);

        var price = await (await client.GetAsync($"/api/v1/pricing?model={Model}&size=2K&count=3")).ReadJsonAsync();
        Assert.Equal(30, price.GetProperty("total").GetInt32());

        var created = await client.SubmitAsync(new { model = Model, prompt = "three bananas", size = "2K", count = 3 });
        Assert.Equal(30, created.CreditsReserved);
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal(30, done.CreditsCharged);
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(70, credits.GetProperty("balance").GetInt32());
        var ledger = factory.Services.GetRequiredService<CreditLedger>();
        var entries = await ledger.GetEntriesAsync(user.Id, 0, 10);
        Assert.Contains(entries, e => e.Kind == CreditEntryKind.Capture && e.TaskId == created.Id && e.Credits == 30);
    }

    [Fact]
    public async Task Failing_generator_refunds_the_reservation()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var created = await client.SubmitAsync(new { model = Model, prompt = "doomed [fail]", count = 2 });
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("generation_failed", done.Error?.Code);
        Assert.Equal(0, done.CreditsCharged);
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(50, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task A_run_without_images_fails_with_no_image_and_refunds()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);

        var done = await client.WaitForTerminalAsync((await client.SubmitAsync(new { model = Model, prompt = "nothing [empty]" })).Id);

        Assert.Equal("failed", done.Status);
        Assert.Equal("no_image", done.Error?.Code);
        Assert.Equal(3, done.Attempts); // retried up to Worker:MaxAttempts
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(50, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task Canceling_a_running_task_stops_it_at_the_next_step_and_refunds()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 50);
        using var client = factory.CreateClient(key);
        var created = await client.SubmitAsync(new { model = Model, prompt = "long [slow:200][steps:50]" });
        while ((await client.GetTaskAsync(created.Id)).Progress == 0) await Task.Delay(50);

        var cancel = await client.PostAsync($"/api/v1/tasks/{created.Id}/cancel", null);
        var done = await client.WaitForTerminalAsync(created.Id);

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("canceled", done.Status);
        Assert.InRange(done.Progress, 1, 99);
        Assert.Empty(done.Images);
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(50, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task Insufficient_credits_is_refused_with_the_amounts_and_changes_nothing()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 25);
        using var client = factory.CreateClient(key);

        var response = await client.PostAsJsonAsync("/api/v1/tasks", new { model = Model, prompt = "expensive", size = "2K", count = 4 });

        Assert.Equal(HttpStatusCode.PaymentRequired, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Equal("insufficient_credits", problem.GetProperty("code").GetString());
        Assert.Equal("This needs 40 credits, balance is 25.", problem.GetProperty("detail").GetString());
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(25, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task Requests_without_a_valid_key_are_unauthorized()
    {
        using var anonymous = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/v1/models")).StatusCode);
        using var wrong = factory.CreateClient("bl_not_a_real_key_at_all_000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/v1/credits")).StatusCode);
    }

    [Fact]
    public async Task Someone_elses_task_and_images_are_not_found()
    {
        var (_, ownerKey) = await factory.CreateUserAsync();
        var (_, otherKey) = await factory.CreateUserAsync();
        using var owner = factory.CreateClient(ownerKey);
        using var other = factory.CreateClient(otherKey);
        var done = await owner.WaitForTerminalAsync((await owner.SubmitAsync(new { model = Model, prompt = "mine" })).Id);

        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync($"/api/v1/tasks/{done.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.GetAsync(done.Images[0].Url)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await other.PostAsync($"/api/v1/tasks/{done.Id}/cancel", null)).StatusCode);
    }

    [Fact]
    public async Task Models_list_the_catalog_with_prices()
    {
        using var client = factory.CreateClient(BananaLabFactory.AdminApiKey);
        var models = await (await client.GetAsync("/api/v1/models")).ReadJsonAsync();
        var test = models.EnumerateArray().Single(m => m.GetProperty("id").GetString() == Model);
        Assert.Equal(5, test.GetProperty("prices").GetProperty("1K").GetInt32());
        Assert.Equal(10, test.GetProperty("prices").GetProperty("2K").GetInt32());
        Assert.False(test.GetProperty("prices").TryGetProperty("4K", out _));
    }

    [Fact]
    public async Task Malformed_json_is_a_bad_request_not_a_server_error()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var response = await client.PostAsync("/api/v1/tasks", new StringContent("{\"model\": ", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Health_endpoints_answer_without_a_key()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/livez")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        HttpStatusCode status;
        do status = (await client.GetAsync("/readyz")).StatusCode;
        while (status != HttpStatusCode.OK && DateTime.UtcNow < deadline && await Task.Delay(50).ContinueWith(_ => true));
        Assert.Equal(HttpStatusCode.OK, status);
    }
}
