using BananaLab.Core.Moderation;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace BananaLab.Worker.Moderation;

public static class ImageModerationServiceCollectionExtensions
{
    /// <summary>
    /// Replaces the no-classifier default with the ONNX image classifier when <c>Moderation:ImageClassifier:Path</c> is set,
    /// and the prompt classifier's with the ONNX one of <c>Moderation:PromptClassifier:Path</c>.
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabImageModeration(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ImageClassifierOptions>().Bind(builder.Configuration.GetSection(ImageClassifierOptions.Section))
            .ValidateDataAnnotations()
            .Validate(o => o.EffectiveMean.Length == 3 && o.EffectiveStd.Length == 3 && o.EffectiveStd.All(s => s > 0),
                "Moderation:ImageClassifier:Mean and Std need three values each, and Std must be positive.")
            .Validate(o => string.IsNullOrEmpty(o.Path) || o.Labels.Count > 0, "Moderation:ImageClassifier:Labels must list the model's labels.")
            .Validate(o => o.Activation is "none" or "softmax" or "sigmoid", "Moderation:ImageClassifier:Activation must be none, softmax or sigmoid.")
            .ValidateOnStart();
        if (!string.IsNullOrEmpty(builder.Configuration[$"{ImageClassifierOptions.Section}:Path"]))
            builder.Services.Replace(ServiceDescriptor.Singleton<IImageModerator, OnnxImageClassifier>());

        // The learned prompt classifier (models/moderation by default): off without its file, refused at start when unreadable.
        builder.Services.AddOptions<PromptClassifierOptions>().Bind(builder.Configuration.GetSection(PromptClassifierOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<PromptClassifierOptions>, PromptClassifierOptionsValidator>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IPromptClassifier, OnnxPromptClassifier>());
        return builder;
    }
}
