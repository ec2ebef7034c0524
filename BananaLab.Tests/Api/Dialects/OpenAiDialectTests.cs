#pragma warning disable OPENAI001 // gpt-image options (background, moderation, output format and compression) are marked evaluation-only in the SDK; clients send them.
using System.ClientModel;
using System.ClientModel.Primitives;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using BananaLab.Tests.Infrastructure;
using OpenAI;
using OpenAI.Images;

namespace BananaLab.Tests.Api.Dialects;

/// <summary>
/// The OpenAI dialect as the official OpenAI .NET SDK (2.15.0) and raw HTTP see it: content-policy refusals, variations,
/// validated options, the model list and OpenAI's envelope for every address under /v1. Each refusal changes no balance.
/// </summary>
public sealed class OpenAiDialectTests(BananaLabFactory factory) : IClassFixture<BananaLabFactory>
{
    [Fact]
    public async Task A_content_policy_refusal_is_a_400_content_policy_violation_the_SDK_throws_as_such()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var error = await Assert.ThrowsAsync<ClientResultException>(() => Images(key).GenerateImageAsync("gore"));

        Assert.Equal(400, error.Status);
        var body = ErrorOf(error);
        Assert.Equal("content_policy_violation", body.GetProperty("code").GetString());
        Assert.Equal("prompt", body.GetProperty("param").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task The_SDK_makes_a_variation_of_an_image_as_image_to_image()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var result = await Images(key).GenerateImageVariationsAsync(new MemoryStream(ScriptedGenerator.RedPng), "red.png", 2,
            new ImageVariationOptions { ResponseFormat = GeneratedImageFormat.Bytes });

        Assert.Equal(2, result.Value.Count);
        Assert.All(result.Value, image => Assert.Equal(ScriptedGenerator.TinyPng, image.ImageBytes.ToArray()));
        var task = await factory.CreateClient(key).LastTaskAsync();
        Assert.True(task.GetProperty("hasReferenceImage").GetBoolean());
        Assert.Equal(2, task.GetProperty("count").GetInt32());
        Assert.Equal(90, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task A_variation_without_an_image_is_refused_naming_image()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        using var form = new MultipartFormDataContent { { new StringContent("1"), "n" } };

        var response = await client.PostAsync("/v1/images/variations", form);

        await AssertErrorAsync(response, 400, "image", "missing_required_parameter");
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Theory]
    [InlineData("quality", "\"ultra\"", "invalid_value")]
    [InlineData("style", "\"bogus\"", "invalid_value")]
    [InlineData("moderation", "\"high\"", "invalid_value")]
    [InlineData("background", "\"sepia\"", "invalid_value")]
    [InlineData("background", "\"transparent\"", "unsupported_value")]
    [InlineData("output_format", "\"gif\"", "invalid_value")]
    [InlineData("output_compression", "101", "invalid_value")]
    [InlineData("output_compression", "-1", "invalid_value")]
    [InlineData("output_compression", "\"high\"", "invalid_type")]
    [InlineData("n", "\"two\"", "invalid_type")]
    [InlineData("n", "1.5", "invalid_type")]
    [InlineData("quality", "7", "invalid_type")]
    [InlineData("colour", "\"red\"", "unknown_parameter")]
    public async Task A_bad_option_is_a_400_naming_its_param_and_charges_nothing(string param, string value, string code)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var body = $"{{\"model\": \"{BananaLabFactory.TestModel}\", \"prompt\": \"a lighthouse\", \"{param}\": {value}}}";

        var response = await client.PostAsync("/v1/images/generations", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertErrorAsync(response, 400, param, code);
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Theory]
    [InlineData("quality", "hd")]
    [InlineData("quality", "low")]
    [InlineData("style", "natural")]
    [InlineData("moderation", "low")]
    [InlineData("background", "opaque")]
    [InlineData("output_compression", "0")]
    [InlineData("user", "user-1234")]
    public async Task Documented_option_values_are_accepted(string param, string value)
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var body = new Dictionary<string, object> { ["model"] = BananaLabFactory.TestModel, ["prompt"] = "a lighthouse", [param] = param == "output_compression" ? int.Parse(value) : value };

        var response = await client.PostAsJsonAsync("/v1/images/generations", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task The_SDK_sends_documented_options_and_gets_images()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var image = await Images(key).GenerateImageAsync("a lighthouse", new ImageGenerationOptions
        {
            Quality = GeneratedImageQuality.High, Style = GeneratedImageStyle.Natural, OutputFileFormat = GeneratedImageFileFormat.Webp,
            Background = GeneratedImageBackground.Opaque, ModerationLevel = GeneratedImageModerationLevel.Low, OutputCompressionFactor = 80,
            ResponseFormat = GeneratedImageFormat.Bytes,
        });

        Assert.Equal(ScriptedGenerator.TinyPng, image.Value.ImageBytes.ToArray());
        Assert.Equal("webp", (await factory.CreateClient(key).LastTaskAsync()).GetProperty("outputFormat").GetString());
    }

    [Fact]
    public async Task A_transparent_background_from_the_SDK_is_refused_with_a_400_naming_background()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);

        var error = await Assert.ThrowsAsync<ClientResultException>(() =>
            Images(key).GenerateImageAsync("a sticker", new ImageGenerationOptions { Background = GeneratedImageBackground.Transparent }));

        Assert.Equal(400, error.Status);
        Assert.Equal("background", ErrorOf(error).GetProperty("param").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task A_whole_number_written_as_a_float_is_a_count()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        var body = $"{{\"model\": \"{BananaLabFactory.TestModel}\", \"prompt\": \"two owls\", \"n\": 2.0, \"response_format\": \"b64_json\"}}";

        var reply = await (await client.PostAsync("/v1/images/generations", new StringContent(body, Encoding.UTF8, "application/json"))).ReadJsonAsync();

        Assert.Equal(2, reply.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Several_images_in_an_edit_are_refused_naming_image_instead_of_using_the_first()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        using var form = new MultipartFormDataContent
        {
            { Png(ScriptedGenerator.RedPng), "image[]", "a.png" }, { Png(ScriptedGenerator.TinyPng), "image[]", "b.png" },
            { new StringContent("merge them"), "prompt" }, { new StringContent(BananaLabFactory.TestModel), "model" },
        };

        var response = await client.PostAsync("/v1/images/edits", form);

        var error = await AssertErrorAsync(response, 400, "image", "invalid_value");
        Assert.Contains("2 images", error.GetProperty("message").GetString());
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task An_edit_part_OpenAI_does_not_have_is_refused_by_name()
    {
        var (_, key) = await factory.CreateUserAsync(credits: 100);
        using var client = factory.CreateClient(key);
        using var form = new MultipartFormDataContent
        {
            { Png(ScriptedGenerator.RedPng), "image", "a.png" }, { new StringContent("blue"), "prompt" }, { new StringContent("7"), "strength" },
        };

        await AssertErrorAsync(await client.PostAsync("/v1/images/edits", form), 400, "strength", "unknown_parameter");
        Assert.Equal(100, await factory.CreateClient(key).BalanceAsync());
    }

    [Fact]
    public async Task The_model_list_is_in_OpenAIs_list_shape_and_the_SDK_reads_it()
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var list = await (await client.GetAsync("/v1/models")).ReadJsonAsync();
        var models = await new OpenAIClient(new ApiKeyCredential(key), Options()).GetOpenAIModelClient().GetModelsAsync();

        Assert.Equal("list", list.GetProperty("object").GetString());
        var test = list.GetProperty("data").EnumerateArray().Single(m => m.GetProperty("id").GetString() == BananaLabFactory.TestModel);
        Assert.Equal("model", test.GetProperty("object").GetString());
        Assert.Equal(ScriptedGenerator.Provider, test.GetProperty("owned_by").GetString());
        Assert.True(test.GetProperty("created").GetInt64() > 1_700_000_000);
        Assert.Contains(models.Value, m => m.Id == BananaLabFactory.TextOnlyModel && m.OwnedBy == ScriptedGenerator.Provider);
    }

    [Fact]
    public async Task The_model_list_needs_a_key_and_an_unknown_model_is_model_not_found()
    {
        var (_, key) = await factory.CreateUserAsync();

        await AssertErrorAsync(await factory.CreateClient().GetAsync("/v1/models"), 401, null, "invalid_api_key");
        await AssertErrorAsync(await factory.CreateClient(key).GetAsync("/v1/models/dall-e-9"), 404, "model", "model_not_found");
        Assert.Equal(BananaLabFactory.TestModel,
            (await (await factory.CreateClient(key).GetAsync($"/v1/models/{BananaLabFactory.TestModel}")).ReadJsonAsync()).GetProperty("id").GetString());
    }

    [Theory]
    [InlineData("GET", "/v1/images/generations", 405)]
    [InlineData("PUT", "/v1/images/edits", 405)]
    [InlineData("DELETE", "/v1/models", 405)]
    [InlineData("POST", "/v1/images/nonsense", 404)]
    [InlineData("GET", "/v1/chat/completions", 404)]
    public async Task An_address_or_method_no_route_takes_answers_in_OpenAIs_envelope(string method, string path, int status)
    {
        var (_, key) = await factory.CreateUserAsync();
        using var client = factory.CreateClient(key);

        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));

        var error = await AssertErrorAsync(response, status, null, status == 404 ? "unknown_url" : "method_not_allowed");
        Assert.Contains($"{method} {path}", error.GetProperty("message").GetString());
        if (status == 405) Assert.NotEmpty(response.Content.Headers.Allow);
    }

    [Fact]
    public async Task The_SDK_shows_a_wrong_address_as_an_error_with_a_body()
    {
        var (_, key) = await factory.CreateUserAsync();
        var client = new OpenAIClient(new ApiKeyCredential(key), Options(endpoint: "/v1/nowhere")).GetImageClient(BananaLabFactory.TestModel);

        var error = await Assert.ThrowsAsync<ClientResultException>(() => client.GenerateImageAsync("x"));

        Assert.Equal(404, error.Status);
        Assert.Equal("unknown_url", ErrorOf(error).GetProperty("code").GetString());
    }

    private ImageClient Images(string key) => new(BananaLabFactory.TestModel, new ApiKeyCredential(key), Options());

    private OpenAIClientOptions Options(string endpoint = "/v1") => new()
    {
        Endpoint = new Uri(factory.Server.BaseAddress, endpoint),
        Transport = new HttpClientPipelineTransport(new HttpClient(factory.Server.CreateHandler()) { BaseAddress = factory.Server.BaseAddress }),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    private static ByteArrayContent Png(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return content;
    }

    private static System.Text.Json.JsonElement ErrorOf(ClientResultException error) =>
        System.Text.Json.JsonDocument.Parse(error.GetRawResponse()!.Content.ToString()).RootElement.GetProperty("error");

    private static async Task<System.Text.Json.JsonElement> AssertErrorAsync(HttpResponseMessage response, int status, string? param, string code)
    {
        Assert.Equal(status, (int)response.StatusCode);
        var error = (await response.ReadJsonAsync()).GetProperty("error");
        Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        return error;
    }
}
