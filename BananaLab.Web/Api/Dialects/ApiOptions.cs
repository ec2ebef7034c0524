using System.ComponentModel.DataAnnotations;
using BananaLab.Core.Catalog;
using Microsoft.Extensions.Options;

namespace BananaLab.Web.Api.Dialects;

/// <summary>Settings every compatibility dialect shares (section <c>Api</c>); a dialect's own settings live in its folder.</summary>
public sealed class ApiOptions
{
    public const string Section = "Api";

    /// <summary>The model used when a dialect's request names none.</summary>
    [Required(ErrorMessage = "Api:DefaultModel is required.")]
    public string DefaultModel { get; set; } = "banana-nano";

    /// <summary>How long synchronous calls (submit and wait in one request) wait for a result, in seconds.</summary>
    [Range(1, 3600, ErrorMessage = "Api:SyncWaitSeconds must be between 1 and 3600.")]
    public int SyncWaitSeconds { get; set; } = 300;

    /// <summary>Lifetime of signed image URLs handed to clients that cannot send a key, in minutes.</summary>
    [Range(1, 7 * 24 * 60, ErrorMessage = "Api:ImageUrlLifetimeMinutes must be between 1 and 10080.")]
    public int ImageUrlLifetimeMinutes { get; set; } = 60;
}

public sealed class ApiOptionsValidator(IOptions<ModelCatalogOptions> catalog) : IValidateOptions<ApiOptions>
{
    public ValidateOptionsResult Validate(string? name, ApiOptions options) =>
        catalog.Value.Models.ContainsKey(options.DefaultModel)
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail($"Api:DefaultModel '{options.DefaultModel}' is not a model in the Models section.");
}
