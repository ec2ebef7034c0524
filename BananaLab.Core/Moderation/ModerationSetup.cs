using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace BananaLab.Core.Moderation;

public static class ModerationSetup
{
    /// <summary>
    /// Prompt screening, the admins' terms and the decision log. Images are allowed by <see cref="NoImageClassifier"/>
    /// unless a host adds a classifier first (the worker's ONNX one).
    /// </summary>
    public static IHostApplicationBuilder AddBananaLabModeration(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ModerationOptions>().Bind(builder.Configuration.GetSection(ModerationOptions.Section))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<PromptModerator>();
        builder.Services.TryAddSingleton<IPromptModerator>(provider => provider.GetRequiredService<PromptModerator>());
        builder.Services.TryAddSingleton<IImageModerator, NoImageClassifier>();
        builder.Services.TryAddSingleton<IPromptClassifier, NoPromptClassifier>();
        builder.Services.AddSingleton<ModerationTermsService>();
        builder.Services.AddSingleton<ModerationLog>();
        builder.Services.AddSingleton<ModerationReviews>();
        return builder;
    }
}
