using BananaLab.Web.Accounts;
using BananaLab.Web.Components.Viewer;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace BananaLab.Web.Pages.Admin;

/// <summary>
/// The admin pages' common edge: the route is already behind <c>StudioPolicies.Admin</c>, and every load and
/// action checks the circuit's user again, so a circuit whose user lost the role (or a tampered one) cannot act.
/// </summary>
public abstract class AdminPageBase : ComponentBase
{
    public const string NotAllowedMessage = "Only administrators can do that.";
    public const string UnexpectedErrorMessage = "Something went wrong on the server. Please try again.";

    [Inject] protected CurrentUser CurrentUser { get; set; } = default!;
    [Inject] protected ISnackbar Snackbar { get; set; } = default!;
    [Inject] protected ViewerClock Viewer { get; set; } = default!;
    [Inject] private ILoggerFactory LoggerFactory { get; set; } = default!;

    /// <summary>The browser sees a neutral message; the detail goes to the server log.</summary>
    protected void LogFailure(Exception exception) =>
        LoggerFactory.CreateLogger(GetType()).LogError(exception, "Admin page {Page} failed", GetType().Name);

    /// <summary>True when the circuit's user is an admin; otherwise says so in a snackbar.</summary>
    protected async Task<bool> EnsureAdminAsync()
    {
        if (await CurrentUser.IsAdminAsync()) return true;
        Snackbar.Add(NotAllowedMessage, Severity.Error);
        return false;
    }
}

public static class AdminTables
{
    /// <summary>After a filter changed: back to the first page (the old page may not exist any more), then reload.</summary>
    public static Task ReloadFromFirstPageAsync<T>(this MudTable<T>? table)
    {
        if (table is null) return Task.CompletedTask;
        if (table.CurrentPage != 0) table.NavigateTo(0);
        return table.ReloadServerData();
    }
}
