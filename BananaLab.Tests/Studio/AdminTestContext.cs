using BananaLab.Core.Reporting;
using BananaLab.Core.Tasks;
using BananaLab.Core.Users;
using BananaLab.Tests.Infrastructure;

namespace BananaLab.Tests.Studio;

/// <summary>The admin pages' tests: an admin signed in, and tasks made through the real <see cref="TaskService"/>.</summary>
public abstract class AdminTestContext(BananaLabFactory app) : StudioTestContext(app)
{
    protected Task<User> SignInAdminAsync() => SignInNewUserAsync(credits: 100, role: UserRole.Admin);

    protected Task<User> CreateUserAsync(int credits = 100, string? email = null) =>
        Get<UserService>().CreateAsync(email ?? $"{Guid.NewGuid():N}@example.test", "Someone", UserRole.User, initialCredits: credits);

    protected async Task<GenerationTask> SubmitAndFinishAsync(Guid userId, string prompt, string model = BananaLabFactory.TestModel)
    {
        var submitted = await Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = model, Prompt = prompt }, default);
        Assert.True(submitted.Succeeded, submitted.Error?.ToString());
        var finished = await Get<TaskService>().WaitAsync(submitted.Value!.Id, null, TimeSpan.FromSeconds(30), default);
        Assert.True(finished!.Task.IsTerminal, $"Task {finished.Id} is still {finished.Status}.");
        return finished.Task;
    }

    /// <summary>Submits a prompt moderation refuses and returns the blocked task it leaves for the admins.</summary>
    protected async Task<GenerationTask> SubmitBlockedAsync(Guid userId, string prompt = "g.o.r.e everywhere")
    {
        var submitted = await Get<TaskService>().SubmitAsync(userId, new SubmitTaskRequest { ModelId = BananaLabFactory.TestModel, Prompt = prompt }, default);
        Assert.Equal("moderation_blocked", submitted.Error?.Code);
        var page = await Get<AdminReports>().TasksAsync(new AdminTaskQuery { UserId = userId, BlockedOnly = true }, default);
        return page.Items.Single(r => r.Task.Prompt == prompt).Task;
    }
}
