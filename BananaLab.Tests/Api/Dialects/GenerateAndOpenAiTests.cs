using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Api.Dialects;

public sealed class GenerateAndOpenAiTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task Generate_answers_with_the_image_itself_for_accept_image()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var request = new HttpRequestMessage(HttpMethod.Post, "/generate")
        {
            Content = JsonContent.Create(new { prompt = "a tiny astronaut hatching from an egg on the moon", height = 300, width = 700, num_inference_steps = 4, guidance_scale = 0 }),
        };
        request.Headers.Accept.ParseAdd("image/*");

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(ScriptedGenerator.TinyPng, await response.Content.ReadAsByteArrayAsync());
        var task = (await (await client.GetAsync("/api/v1/tasks?pageSize=1")).ReadJsonAsync()).GetProperty("items")[0];
        Assert.Equal((700, 300, 5), (task.GetProperty("width").GetInt32(), task.GetProperty("height").GetInt32(), task.GetProperty("creditsCharged").GetInt32()));
    }

    [Fact]
    public async Task Generate_answers_json_with_base64_for_accept_json_and_prices_by_longest_edge()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var request = new HttpRequestMessage(HttpMethod.Post, "/generate")
        {
            Content = JsonContent.Create(new { prompt = "wide", height = 512, width = 1536, seed = 3 }),
        };
        request.Headers.Accept.ParseAdd("application/json");

        var reply = await (await client.SendAsync(request)).ReadJsonAsync();

        Assert.Equal(ScriptedGenerator.TinyPng, Convert.FromBase64String(reply.GetProperty("images")[0].GetString()!));
        Assert.Equal((1536, 512), (reply.GetProperty("width").GetInt32(), reply.GetProperty("height").GetInt32()));
        var credits = await (await client.GetAsync("/api/v1/credits")).ReadJsonAsync();
        Assert.Equal(90, credits.GetProperty("balance").GetInt32()); // 2K price of the test model
    }

    [Theory]
    [InlineData("{\"prompt\": \"x\", \"width\": 5000, \"height\": 100}", "invalid_size")]
    [InlineData("{\"prompt\": \"x\", \"width\": \"wide\"}", "invalid_request")]
    [InlineData("{\"height\": 64, \"width\": 64}", "prompt_required")]
    public async Task Generate_refuses_bad_input_with_a_problem(string body, string code)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var response = await client.PostAsync("/generate", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(code, (await response.ReadJsonAsync()).GetProperty("code").GetString());
    }

    [Fact]
    public async Task Generate_needs_a_bearer_key()
    {
        using var client = factory.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/generate", new { prompt = "x" })).StatusCode);
    }

    [Theory]
    [InlineData("b64_json")]
    [InlineData("url")]
    public async Task OpenAI_generations_return_data_in_the_requested_format(string format)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var reply = await (await client.PostAsJsonAsync("/v1/images/generations", new
        {
            model = BananaLabFactory.TestModel, prompt = "a white siamese cat", n = 2, size = "1024x1024", response_format = format,
        })).ReadJsonAsync();

        Assert.True(reply.GetProperty("created").GetInt64() > 1_700_000_000);
        var data = reply.GetProperty("data");
        Assert.Equal(2, data.GetArrayLength());
        var bytes = format == "b64_json"
            ? Convert.FromBase64String(data[0].GetProperty("b64_json").GetString()!)
            : await factory.CreateClient().GetByteArrayAsync(data[0].GetProperty("url").GetString());
        Assert.Equal(ScriptedGenerator.TinyPng, bytes);
    }

    [Fact]
    public async Task OpenAI_edits_take_a_multipart_image()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var image = new ByteArrayContent(ScriptedGenerator.TinyPng);
        image.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        using var form = new MultipartFormDataContent
        {
            { image, "image", "in.png" }, { new StringContent("make it blue"), "prompt" }, { new StringContent("b64_json"), "response_format" },
        };

        var reply = await (await client.PostAsync("/v1/images/edits", form)).ReadJsonAsync();

        Assert.Single(reply.GetProperty("data").EnumerateArray());
    }

    [Theory]
    [InlineData("{\"prompt\": \"x\", \"size\": \"huge\"}", "size", 400)]
    [InlineData("{\"prompt\": \"x\", \"n\": 9}", "n", 400)]
    [InlineData("{\"prompt\": \"x\", \"response_format\": \"gif\"}", "response_format", 400)]
    [InlineData("{\"prompt\": \"\"}", "prompt", 400)]
    [InlineData("{\"prompt\": \"x\", \"model\": \"dall-e-9\"}", "model", 400)]
    [InlineData("{\"prompt\": \"gore\"}", "prompt", 400)]
    public async Task OpenAI_errors_use_the_openai_envelope(string body, string param, int status)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);
        var response = await client.PostAsync("/v1/images/generations", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(status, (int)response.StatusCode);
        var error = (await response.ReadJsonAsync()).GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.False(string.IsNullOrEmpty(error.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task OpenAI_without_a_key_is_invalid_api_key()
    {
        using var client = factory.CreateClient();
        var response = await client.PostAsJsonAsync("/v1/images/generations", new { prompt = "x" });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("invalid_api_key", (await response.ReadJsonAsync()).GetProperty("error").GetProperty("code").GetString());
    }
}
