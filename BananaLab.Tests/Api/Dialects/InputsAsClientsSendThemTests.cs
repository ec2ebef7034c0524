using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api.Dialects;

/// <summary>
/// The seed dialects take values as their own clients write them (Python's <c>4.0</c>, <c>"true"</c>, <c>1</c>, a numeric
/// Banana <c>id</c>, fastDeploy's <c>negativePrompt</c>), refuse a field they do not take by name instead of ignoring it, and
/// keep their promises: a /sync that ran out of time hands back a <c>unique_id</c> /result takes, /generate honours Accept.
/// </summary>
public sealed class InputsAsClientsSendThemTests(SynchronousRetryTests.ShortWaitFactory factory) : IClassFixture<SynchronousRetryTests.ShortWaitFactory>
{
    [Fact]
    public async Task Whole_numbers_written_as_floats_are_taken_in_every_seed_dialect()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 200);
        using var client = factory.CreateClient(key);

        var banana = await (await Post(factory.CreateClient(), "/start/v4",
            $"{{\"apiKey\": \"{key}\", \"modelKey\": \"{BananaLabFactory.TestModel}\", \"modelInputs\": {{\"prompt\": \"a pear\", \"num_images\": 2.0, \"seed\": 7.0}}}}")).ReadJsonAsync();
        var fast = await (await Post(client, "/sync", "{\"data\": [{\"prompt\": \"a plum\", \"num_images\": 2.0, \"width\": 64.0, \"height\": 64.0}]}")).ReadJsonAsync();
        var bento = await Post(client, "/generate", "{\"prompt\": \"a fig\", \"width\": 96.0, \"height\": 64.0, \"num_inference_steps\": 3.0}");

        Assert.Equal("success", banana.GetProperty("message").GetString());
        Assert.Equal(2, banana.GetProperty("modelOutputs").GetArrayLength());
        Assert.Equal(7, banana.GetProperty("modelOutputs")[0].GetProperty("seed").GetInt64());
        Assert.Equal(2, fast.GetProperty("prediction")[0].GetProperty("images").GetArrayLength());
        Assert.Equal(HttpStatusCode.OK, bento.StatusCode);
        var task = await factory.CreateClient(key).LastTaskAsync();
        Assert.Equal((96, 3), (task.GetProperty("width").GetInt32(), task.GetProperty("steps").GetInt32()));
    }

    [Theory]
    [InlineData("{\"prompt\": \"x\", \"num_images\": 1.5}", "num_images")]
    [InlineData("{\"prompt\": \"x\", \"width\": 1e10}", "width")]
    public async Task A_number_that_is_not_whole_is_still_a_type_error(string body, string field)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var response = await Post(factory.CreateClient(key), "/generate", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains($"'{field}'", (await response.ReadJsonAsync()).GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("\"true\"")]
    [InlineData("1")]
    [InlineData("\"True\"")]
    public async Task Banana_startOnly_and_session_wait_for_result_take_string_and_number_booleans(string yes)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var anonymous = factory.CreateClient();
        var gate = Gate();

        var started = await (await Post(anonymous, "/start/v4",
            $"{{\"apiKey\": \"{key}\", \"modelKey\": \"{BananaLabFactory.TestModel}\", \"startOnly\": {yes}, \"modelInputs\": {{\"prompt\": \"[gate:{gate}] slow\"}}}}")).ReadJsonAsync();
        Assert.False(started.GetProperty("finished").GetBoolean()); // startOnly answered at once, before the gated task could finish

        var session = await LoginAsync(key);
        var done = await (await Post(anonymous, "/endpoint",
            $"{{\"client_session_auth_key\": \"{session}\", \"prompt\": \"a quick kiwi\", \"wait_for_result\": {yes}}}")).ReadJsonAsync();
        Assert.Single(done.GetProperty("images").EnumerateArray()); // waited for the result

        var checkedCall = await (await Post(anonymous, "/check/v4",
            $"{{\"apiKey\": \"{key}\", \"callID\": \"{started.GetProperty("callID").GetString()}\", \"longPoll\": \"false\"}}")).ReadJsonAsync();
        ScriptedGenerator.OpenGate(gate);
        Assert.DoesNotContain("error", checkedCall.GetProperty("message").GetString());
    }

    [Theory]
    [InlineData("\"yes\"")]
    [InlineData("2")]
    public async Task A_boolean_that_is_neither_is_refused_naming_it(string value)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var reply = await (await Post(factory.CreateClient(), "/start/v4",
            $"{{\"apiKey\": \"{key}\", \"modelKey\": \"{BananaLabFactory.TestModel}\", \"startOnly\": {value}, \"modelInputs\": {{\"prompt\": \"x\"}}}}")).ReadJsonAsync();
        Assert.Contains("startOnly", reply.GetProperty("message").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Theory]
    [InlineData("12345", JsonValueKind.Number)]
    [InlineData("12.5", JsonValueKind.Number)]
    [InlineData("\"my-call\"", JsonValueKind.String)]
    public async Task A_banana_id_is_echoed_as_sent_even_a_number(string id, JsonValueKind kind)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var anonymous = factory.CreateClient();

        var started = await (await Post(anonymous, "/start/v4",
            $"{{\"id\": {id}, \"apiKey\": \"{key}\", \"modelKey\": \"{BananaLabFactory.TestModel}\", \"modelInputs\": {{\"prompt\": \"a lime\"}}}}")).ReadJsonAsync();
        var failed = await (await Post(anonymous, "/check/v4", $"{{\"id\": {id}, \"apiKey\": \"{key}\", \"callID\": \"nope\"}}")).ReadJsonAsync();

        Assert.Equal(kind, started.GetProperty("id").ValueKind);
        Assert.Equal(id, started.GetProperty("id").GetRawText());
        Assert.Equal(id, failed.GetProperty("id").GetRawText());
        Assert.Contains("error", failed.GetProperty("message").GetString());
    }

    [Fact]
    public async Task FastDeploy_negativePrompt_in_camelCase_reaches_the_task()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);

        var reply = await (await Post(client, "/sync", "{\"data\": [{\"prompt\": \"a bowl of fruit\", \"negativePrompt\": \"bananas\"}]}")).ReadJsonAsync();

        Assert.True(reply.GetProperty("success").GetBoolean());
        Assert.Equal("bananas", (await factory.CreateClient(key).LastTaskAsync()).GetProperty("negativePrompt").GetString());
    }

    [Theory]
    [InlineData("/sync", "{\"data\": [{\"prompt\": \"x\", \"negative_prompt\": \"a\", \"negativePrompt\": \"b\"}]}", "negativePrompt")]
    [InlineData("/sync", "{\"data\": [{\"prompt\": \"x\", \"cfg_scale\": 7}]}", "cfg_scale")]
    [InlineData("/sync", "{\"data\": [\"x\"], \"params\": {\"sampler\": \"euler\"}}", "sampler")]
    [InlineData("/sync", "{\"data\": [\"x\"], \"webhook\": \"http://127.0.0.1:9/\"}", "webhook")]
    [InlineData("/async", "{\"data\": [\"x\"], \"callback\": \"http://127.0.0.1:9/\"}", "callback")]
    [InlineData("/result", "{\"unique_id\": \"00000000000000000000000000000000\", \"wait\": true}", "wait")]
    public async Task FastDeploy_refuses_a_field_it_does_not_take_by_name_and_creates_nothing(string path, string body, string field)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var response = await Post(factory.CreateClient(key), path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var reply = await response.ReadJsonAsync();
        Assert.False(reply.GetProperty("success").GetBoolean());
        Assert.Contains($"'{field}'", reply.GetProperty("reason").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Theory]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"x\", \"sampler\": \"euler\"}}", "sampler")]
    [InlineData("{\"apiKey\": \"KEY\", \"modelKey\": \"test-model\", \"modelInputs\": {\"prompt\": \"x\"}, \"webhook\": \"x\"}", "webhook")]
    public async Task Banana_refuses_a_field_it_does_not_take_by_name(string body, string field)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var reply = await (await Post(factory.CreateClient(), "/start/v4", body.Replace("KEY", key))).ReadJsonAsync();
        Assert.StartsWith("error", reply.GetProperty("message").GetString());
        Assert.Contains($"'{field}'", reply.GetProperty("message").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task Session_and_bentoml_refuse_a_field_they_do_not_take_by_name()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var session = await LoginAsync(key);

        var endpoint = await Post(factory.CreateClient(), "/endpoint", $"{{\"client_session_auth_key\": \"{session}\", \"prompt\": \"x\", \"cfg\": 7}}");
        var generate = await Post(factory.CreateClient(key), "/generate", "{\"prompt\": \"x\", \"sampler_name\": \"euler\"}");

        Assert.Equal(HttpStatusCode.BadRequest, endpoint.StatusCode);
        Assert.Contains("'cfg'", (await endpoint.ReadJsonAsync()).GetProperty("error").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, generate.StatusCode);
        Assert.Contains("'sampler_name'", (await generate.ReadJsonAsync()).GetProperty("detail").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task A_fastDeploy_sync_that_ran_out_of_time_gives_a_unique_id_that_result_takes()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var gate = Gate();

        var first = await (await Post(client, "/sync", $"{{\"data\": [\"[gate:{gate}] slow one\", \"[gate:{gate}] slow two\"]}}")).ReadJsonAsync();
        var uniqueId = first.GetProperty("unique_id").GetString();
        var pending = await (await Post(client, "/result", $"{{\"unique_id\": \"{uniqueId}\"}}")).ReadJsonAsync();
        ScriptedGenerator.OpenGate(gate);
        JsonElement done = default;
        for (var deadline = DateTime.UtcNow.AddSeconds(15); DateTime.UtcNow < deadline; await Task.Delay(50))
            if ((done = await (await Post(client, "/result", $"{{\"unique_id\": \"{uniqueId}\"}}")).ReadJsonAsync()).GetProperty("status").GetString() == "done") break;

        Assert.Contains("unique_id", first.GetProperty("reason").GetString());
        Assert.Equal("processing", pending.GetProperty("status").GetString());
        Assert.Equal("done", done.GetProperty("status").GetString());
        Assert.Equal(2, done.GetProperty("prediction").GetArrayLength());
    }

    [Theory]
    [InlineData("text/html")]
    [InlineData("application/xml, text/plain")]
    [InlineData("image/png;q=0")]
    public async Task Generate_answers_406_when_it_can_produce_nothing_the_Accept_header_takes(string accept)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var response = await GenerateAsync(key, accept, "{\"prompt\": \"a melon\"}");

        Assert.Equal(HttpStatusCode.NotAcceptable, response.StatusCode);
        Assert.Equal("not_acceptable", (await response.ReadJsonAsync()).GetProperty("code").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task Generate_refuses_accept_png_with_output_format_jpeg_instead_of_answering_a_jpeg()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var response = await GenerateAsync(key, "image/png", "{\"prompt\": \"a melon\", \"output_format\": \"jpeg\"}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ReadJsonAsync();
        Assert.Contains("output_format", problem.GetProperty("detail").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Theory]
    [InlineData("image/jpeg", "{\"prompt\": \"a melon\", \"output_format\": \"jpeg\"}", "image/jpeg")]
    [InlineData("image/*", "{\"prompt\": \"a melon\", \"output_format\": \"webp\"}", "image/webp")]
    [InlineData("text/html, image/webp;q=0.5", "{\"prompt\": \"a melon\"}", "image/webp")]
    [InlineData("application/json", "{\"prompt\": \"a melon\", \"output_format\": \"jpeg\"}", "application/json")]
    public async Task Generate_answers_in_a_type_the_Accept_header_takes(string accept, string body, string type)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        var response = await GenerateAsync(key, accept, body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(type, response.Content.Headers.ContentType?.MediaType);
    }

    private async Task<HttpResponseMessage> GenerateAsync(string key, string accept, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/generate") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Accept", accept);
        return await factory.CreateClient(key).SendAsync(request);
    }

    private static Task<HttpResponseMessage> Post(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    private async Task<string> LoginAsync(string key)
    {
        var login = new HttpRequestMessage(HttpMethod.Post, "/login") { Content = JsonContent.Create(new { endpoint_name = BananaLabFactory.TestModel }) };
        login.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return (await (await factory.CreateClient().SendAsync(login)).ReadJsonAsync()).GetProperty("client_session_auth_key").GetString()!;
    }

    private static string Gate() => "inputs" + Guid.NewGuid().ToString("N")[..12];
}
