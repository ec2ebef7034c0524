using System.Security.Claims;
using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;
using Bunit;
using MudBlazor;

namespace BananaLab.Tests.Studio;

/// <summary>The admin pages' tests: an admin signed in, and tasks made through the real <see cref="TaskService"/>.</summary>
public abstract class AdminTestContext(BananaLabFactory app) : StudioTestContext(app)
{
    /// <summary>The dialog and snackbar hosts (and the popover host), rendered first as the layout does.</summary>
    protected (IRenderedComponent<MudDialogProvider> Dialogs, IRenderedComponent<MudSnackbarProvider> Snackbars) RenderHosts()
    {
        var dialogs = Render<MudDialogProvider>();
        var snackbars = Render<MudSnackbarProvider>();
        Render<MudPopoverProvider>();
        return (dialogs, snackbars);
    }

    /// <summary>A fresh admin, signed in. (bUnit's SetRoles drops earlier claims, so the roles go first here.)</summary>
    protected async Task<User> SignInAdminAsync()
    {
        var admin = await Get<UserService>().CreateAsync($"admin-{Guid.NewGuid():N}@example.test", "Test Admin", UserRole.Admin, initialCredits: 100);
        var auth = AddAuthorization();
        auth.SetAuthorized(admin.DisplayName);
        auth.SetRoles(nameof(UserRole.Admin));
        auth.SetClaims(new Claim(ClaimTypes.NameIdentifier, admin.Id.ToString()), new Claim(ClaimTypes.Email, admin.Email));
        return admin;
    }

    protected Task<User> CreateUserAsync(int credits = 100, string? email = null) =>
        Get<UserService>().CreateAsync(email ?? $"{Guid.NewGuid():N}@example.test", "Someone", UserRole.User, initialCredits: credits);

    protected async Task<TaskSnapshot> SubmitAndFinishAsync(Guid userId, string prompt, string model = BananaLabFactory.TestModel)
    {
        var submitted = await Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = model, Prompt = prompt }, default);
        Assert.True(submitted.Succeeded, submitted.Error?.ToString());
        var finished = await Get<TaskService>().WaitAsync(submitted.Value!.Id, null, TimeSpan.FromSeconds(30), default);
        Assert.True(finished!.Task.IsTerminal, $"Task {finished.Id} is still {finished.Status}.");
        return finished.Task;
    }

    /// <summary>Submits a prompt moderation refuses and returns the blocked task it leaves for the admins.</summary>
    protected async Task<TaskSnapshot> SubmitBlockedAsync(Guid userId, string prompt = "g.o.r.e everywhere")
    {
        var submitted = await Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = prompt }, default);
        Assert.Equal("moderation_blocked", submitted.Error?.Code);
        var page = await Get<AdminReports>().TasksAsync(new AdminTaskQuery { UserId = userId, BlockedOnly = true }, default);
        return page.Items.Single(r => r.Task.Prompt == prompt).Task;
    }
}
