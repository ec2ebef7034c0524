using System.Net;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api.Dialects;

public sealed class BananaApiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Start_waits_for_the_result_and_returns_every_documented_field()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient();

        var response = await client.PostAsJsonAsync("/start/v4", new
        {
            id = "xyz", created = 123123123123, apiKey = key, modelKey = BananaLabFactory.TestModel,
            modelInputs = new { prompt = "a banana", size = "1K", aspect_ratio = "16:9", num_images = 2, seed = 9, num_inference_steps = 2, guidance_scale = 3.5 },
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.ReadJsonAsync();
        Assert.Equal("xyz", body.GetProperty("id").GetString());
        Assert.Equal("success", body.GetProperty("message").GetString());
        Assert.True(body.GetProperty("created").GetInt64() > 1_700_000_000);
        Assert.False(string.IsNullOrEmpty(body.GetProperty("apiVersion").GetString()));
        Assert.StartsWith("call_", body.GetProperty("callID").GetString());
        Assert.True(body.GetProperty("finished").GetBoolean());
        var outputs = body.GetProperty("modelOutputs");
        Assert.Equal(2, outputs.GetArrayLength());
        var first = outputs[0];
        Assert.Equal(ScriptedGenerator.TinyPng, Convert.FromBase64String(first.GetProperty("image_base64").GetString()!));
        Assert.Equal((1024, 576), (first.GetProperty("width").GetInt32(), first.GetProperty("height").GetInt32()));
        Assert.Equal(9, first.GetProperty("seed").GetInt64());
        Assert.Equal(10, outputs[1].GetProperty("seed").GetInt64());

        using var anonymous = factory.CreateClient();
        var download = await anonymous.GetAsync(first.GetProperty("image_url").GetString());
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal(ScriptedGenerator.TinyPng, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task StartOnly_returns_a_call_id_that_check_resolves()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient();

        var start = await (await client.PostAsJsonAsync("/start/v4", new
        {
            apiKey = key, modelKey = BananaLabFactory.TestModel, startOnly = true, modelInputs = new { prompt = "later [slow:100][steps:3]" },
        })).ReadJsonAsync();
        Assert.False(start.GetProperty("finished").GetBoolean());
        Assert.DoesNotContain("error", start.GetProperty("message").GetString());
        var callId = start.GetProperty("callID").GetString();

        var check = await (await client.PostAsJsonAsync("/check/v4", new { apiKey = key, longPoll = true, callID = callId })).ReadJsonAsync();
        Assert.Equal("success", check.GetProperty("message").GetString());
        Assert.Single(check.GetProperty("modelOutputs").EnumerateArray());
    }

    [Theory]
    [InlineData("{\"apiKey\": ")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"apiKey\": \"nope\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"x\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"missing-model\", \"modelInputs\": {\"prompt\": \"x\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"x\", \"num_images\": \"two\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"x\", \"reference_image\": \"%%%\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"gore everywhere\"}}")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\"}")]
    [InlineData("{\"apiKey\": \"KEY\", \"callID\": \"call_nonsense\"}")]
    public async Task Every_failure_is_a_200_whose_message_contains_error(string body)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient();
        var path = body.Contains("callID") ? "/check/v4" : "/start/v4";

        var response = await client.PostAsync(path, new StringContent(body.Replace("KEY", key), System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var reply = await response.ReadJsonAsync();
        Assert.Contains("error", reply.GetProperty("message").GetString());
        var credits = await (await factory.CreateClient(key).GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(100, credits.GetProperty("balance").GetInt32());
    }

    [Fact]
    public async Task A_failed_generation_is_reported_as_an_error_message()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient();
        var reply = await (await client.PostAsJsonAsync("/start/v4", new
        {
            apiKey = key, modelKey = BananaLabFactory.TestModel, modelInputs = new { prompt = "broken [fail]" },
        })).ReadJsonAsync();
        Assert.Contains("error", reply.GetProperty("message").GetString());
        Assert.True(reply.GetProperty("finished").GetBoolean());
    }
}
