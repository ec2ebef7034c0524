using System.Security.Claims;
using BananaLab.Web.Auth;
using Microsoft.AspNetCore.Components.Authorization;

namespace BananaLab.Web.Accounts;

/// <summary>The signed-in studio user of this circuit, for components that act on their behalf.</summary>
public sealed class CurrentUser(AuthenticationStateProvider authentication)
{
    public async Task<ClaimsPrincipal> PrincipalAsync() => (await authentication.GetAuthenticationStateAsync()).User;

    /// <summary>The user's id; pages that call this are behind <see cref="StudioPolicies.Member"/>.</summary>
    public async Task<Guid> IdAsync() => (await PrincipalAsync()).UserId();

    public async Task<bool> IsAdminAsync() => (await PrincipalAsync()).IsAdmin();
}
