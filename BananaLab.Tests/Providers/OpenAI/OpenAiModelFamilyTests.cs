using BananaLab.Core.Catalog;
using BananaLab.Worker.Providers.OpenAI;

namespace BananaLab.Tests.Providers.OpenAI;

/// <summary>Which size each kind of remote model is asked for, and the start-up check of <c>openai</c> catalog entries.</summary>
public sealed class OpenAiModelFamilyTests
{
    [Theory]
    [InlineData("gpt-image-1", null, 1024, 1024, "1024x1024")]
    [InlineData("gpt-image-1-mini", null, 1024, 576, "1536x1024")]
    [InlineData("gpt-image-1", null, 768, 1024, "1024x1536")]
    [InlineData("some-future-model", null, 1024, 768, "1536x1024")] // an unknown name on OpenAI's endpoint is GPT Image
    [InlineData("dall-e-3", null, 1024, 576, "1792x1024")]
    [InlineData("dall-e-3", null, 576, 1024, "1024x1792")]
    [InlineData("dall-e-2", null, 1024, 576, "1024x1024")]
    [InlineData("banana-nano", "http://127.0.0.1:5000/v1", 2048, 1152, "2048x1152")] // a compatible server: the exact size
    [InlineData("gpt-image-1", "http://127.0.0.1:5000/v1", 2048, 1152, "1536x1024")] // GPT Image behind a proxy keeps its sizes
    public void Each_family_is_asked_for_the_size_nearest_the_task(string remoteModel, string? endpoint, int width, int height, string asked)
    {
        var model = new ModelDefinition { Id = "m", Provider = "openai", RemoteModel = remoteModel, Endpoint = endpoint };

        var (w, h) = OpenAiModelFamily.Of(model).SizeFor(model, width, height);

        Assert.Equal(asked, $"{w}x{h}");
    }

    [Fact]
    public void A_catalog_native_size_is_asked_as_it_is()
    {
        var model = new ModelDefinition { Id = "m", RemoteModel = "local-sd", Endpoint = "http://127.0.0.1:8080/v1", NativeWidth = 512, NativeHeight = 512 };

        Assert.Equal((512, 512), OpenAiModelFamily.Of(model).SizeFor(model, 1024, 576));
    }

    [Fact]
    public void Start_up_refuses_an_openai_model_without_RemoteModel_or_with_a_size_it_does_not_make_naming_the_keys()
    {
        var options = new ModelCatalogOptions();
        options.Models["no-name"] = new ModelDefinition { Provider = "openai" };
        options.Models["odd-size"] = new ModelDefinition { Provider = "OpenAI", RemoteModel = "dall-e-3", NativeWidth = 512, NativeHeight = 512 };
        options.Models["fine"] = new ModelDefinition { Provider = "openai", RemoteModel = "gpt-image-1", NativeWidth = 1536, NativeHeight = 1024 };
        options.Models["local"] = new ModelDefinition { Provider = "onnx" };

        var result = new OpenAiCatalogValidator().Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(2, failures.Count);
        Assert.StartsWith("Models:no-name:RemoteModel is required for provider openai", failures[0]);
        Assert.StartsWith("Models:odd-size:NativeWidth and Models:odd-size:NativeHeight must be a size dall-e-3 makes (1024x1024, 1792x1024, 1024x1792)",
            failures[1]);
    }
}
