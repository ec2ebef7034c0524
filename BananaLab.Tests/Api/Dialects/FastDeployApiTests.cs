using System.Net;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api.Dialects;

public sealed class FastDeployApiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Sync_json_returns_one_prediction_per_element_in_order()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var reply = await (await client.PostAsJsonAsync("/sync", new
        {
            data = new object[] { "a red apple", new { prompt = "a green pear", seed = 5, num_images = 2 } },
        })).ReadJsonAsync();

        Assert.True(reply.GetProperty("success").GetBoolean());
        var predictions = reply.GetProperty("prediction");
        Assert.Equal(2, predictions.GetArrayLength());
        Assert.Single(predictions[0].GetProperty("images").EnumerateArray());
        Assert.Equal(2, predictions[1].GetProperty("images").GetArrayLength());
        Assert.Equal(5, predictions[1].GetProperty("seed").GetInt64());
    }

    [Fact]
    public async Task Sync_file_input_keys_predictions_by_file_name()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var image = Convert.ToBase64String(ScriptedGenerator.TinyPng);

        var reply = await (await client.PostAsJsonAsync("/sync", new
        {
            data = new Dictionary<string, string> { ["1.png"] = image, ["2.png"] = image },
            @params = new { prompt = "make it golden", strength = 0.5 },
        })).ReadJsonAsync();

        Assert.True(reply.GetProperty("success").GetBoolean());
        var predictions = reply.GetProperty("prediction");
        Assert.Equal(["1.png", "2.png"], predictions.EnumerateObject().Select(p => p.Name));
        Assert.Single(predictions.GetProperty("2.png").GetProperty("images").EnumerateArray());
    }

    [Fact]
    public async Task Async_returns_a_unique_id_that_result_resolves()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var start = await (await client.PostAsJsonAsync("/async", new { data = new[] { "one", "two [slow:50]" } })).ReadJsonAsync();
        Assert.True(start.GetProperty("success").GetBoolean());
        var uniqueId = start.GetProperty("unique_id").GetString();

        System.Text.Json.JsonElement result;
        do result = await (await client.PostAsJsonAsync("/result", new { unique_id = uniqueId })).ReadJsonAsync();
        while (result.GetProperty("status").GetString() == "processing" && await Task.Delay(50).ContinueWith(_ => true));

        Assert.Equal("done", result.GetProperty("status").GetString());
        Assert.True(result.GetProperty("success").GetBoolean());
        Assert.Equal(2, result.GetProperty("prediction").GetArrayLength());
    }

    [Fact]
    public async Task A_failing_element_makes_the_reply_unsuccessful_with_a_reason()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var reply = await (await client.PostAsJsonAsync("/sync", new { data = new[] { "fine", "broken [fail]" } })).ReadJsonAsync();
        Assert.False(reply.GetProperty("success").GetBoolean());
        Assert.Contains("item 2", reply.GetProperty("reason").GetString());
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("{\"data\": []}")]
    [InlineData("{\"data\": 5}")]
    [InlineData("{\"data\": [\"ok\", 7]}")]
    [InlineData("{\"data\": [\"ok\", \"\"]}")]
    [InlineData("{\"data\": [\"ok\", \"gore\"]}")]
    [InlineData("{\"data\": {\"a.png\": \"not base64!\"}, \"params\": {\"prompt\": \"x\"}}")]
    [InlineData("{\"data\": {\"a.png\": 12}}")]
    [InlineData("{\"data\": [\"ok\"], \"model\": \"nope\"}")]
    [InlineData("{\"data\": [\"ok\"], \"webhook\": \"http://10.0.0.1/hook\"}")]
    [InlineData("{\"unique_id\": \"zzz\"}")]
    [InlineData("not json")]
    public async Task Bad_requests_answer_success_false_with_a_reason_and_create_nothing(string body)
    {
        var (user, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var path = body.Contains("webhook") ? "/async" : body.Contains("unique_id") ? "/result" : "/sync";

        var response = await client.PostAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.InRange((int)response.StatusCode, 400, 499);
        var reply = await response.ReadJsonAsync();
        Assert.False(reply.GetProperty("success").GetBoolean());
        Assert.False(string.IsNullOrEmpty(reply.GetProperty("reason").GetString()));
        var list = await (await client.GetAsync("/api/v1/tasks?status=queued")).ReadJsonAsync();
        Assert.Equal(0, list.GetProperty("total").GetInt32());
        Assert.Equal(100, await factory.Services.GetRequiredService<BananaLab.Core.Credits.CreditLedger>().GetBalanceAsync(user.Id));
    }

    [Fact]
    public async Task Missing_key_is_refused_in_the_fastdeploy_envelope()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/sync", new { data = new[] { "x" } });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False((await response.ReadJsonAsync()).GetProperty("success").GetBoolean());
    }
}
