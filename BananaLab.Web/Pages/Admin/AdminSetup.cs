using BananaLab.Core.Reporting;

namespace BananaLab.Web.Pages.Admin;

/// <summary>The admin area's services: the read-only reports behind the dashboard, task log and moderation log.</summary>
public static class AdminSetup
{
    public static IHostApplicationBuilder AddBananaLabAdmin(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<AdminReports>();
        return builder;
    }
}
