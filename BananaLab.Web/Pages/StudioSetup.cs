using BananaLab.Core.Credits;
using BananaLab.Core.Reporting;
using BananaLab.Web.Components.Shared;
using BananaLab.Web.Components.Viewer;
using BananaLab.Web.Pages.Media;
using MudBlazor;
using MudBlazor.Services;

namespace BananaLab.Web.Pages;

/// <summary>The Blazor Server studio: components, MudBlazor and the per-circuit services the pages share.</summary>
public static class StudioSetup
{
    public static IHostApplicationBuilder AddBananaLabStudio(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents(options =>
            // The browser only ever sees neutral messages; exception detail stays in the server log.
            options.DetailedErrors = builder.Environment.IsDevelopment());
        builder.Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.VisibleStateDuration = 5000;
        });
        builder.Services.AddScoped<BalanceState>();
        builder.Services.AddScoped<ViewerClock>();
        builder.Services.AddSingleton<Thumbnails>();
        builder.Services.AddSingleton<Studio.ReferenceImageReader>();
        builder.Services.AddSingleton<Developers.ApiExamples>();
        // Read-only reports: daily spend for the credits page; dashboard, task and moderation logs for admins.
        builder.Services.AddSingleton<CreditReports>();
        builder.Services.AddSingleton<AdminReports>();
        return builder;
    }
}
