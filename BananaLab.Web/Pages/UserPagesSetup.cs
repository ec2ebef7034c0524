using BananaLab.Core.Credits;

namespace BananaLab.Web.Pages;

/// <summary>Services behind the signed-in user's own pages: history, credits, API keys and examples.</summary>
public static class UserPagesSetup
{
    public static IServiceCollection AddBananaLabUserPages(this IServiceCollection services)
    {
        services.AddSingleton<CreditReports>();
        return services;
    }
}
