using BananaLab.Core.Credits;
using BananaLab.Core.Tasks;
using BananaLab.Web.Accounts;

namespace BananaLab.Web.Components.Shared;

/// <summary>
/// The signed-in user's credit balance for one circuit. It refreshes itself whenever one of the user's
/// tasks ends (a capture or a release moved credits) and when a page says it spent or received some.
/// </summary>
public sealed class BalanceState(CreditLedger ledger, CurrentUser currentUser, TaskNotifier notifier) : IDisposable
{
    private IDisposable? _subscription;
    private Guid _userId;

    public int? Credits { get; private set; }

    public event Action? Changed;

    /// <summary>Reads the balance unless this circuit already has it (the layout and a page both ask at start).</summary>
    public Task LoadAsync() => Credits is null ? RefreshAsync() : Task.CompletedTask;

    public async Task RefreshAsync(CancellationToken cancellationToken = default)
    {
        var principal = await currentUser.PrincipalAsync();
        if (principal.Identity?.IsAuthenticated != true) return;
        if (_subscription is null)
        {
            _userId = await currentUser.IdAsync();
            _subscription = notifier.SubscribeAll(OnTaskEvent);
        }
        Credits = await ledger.GetBalanceAsync(_userId, cancellationToken);
        Changed?.Invoke();
    }

    private void OnTaskEvent(TaskEvent taskEvent)
    {
        if (taskEvent.UserId != _userId) return;
        if (taskEvent.Kind is TaskEventKind.Succeeded or TaskEventKind.Failed or TaskEventKind.Canceled)
            _ = RefreshAfterTaskAsync();
    }

    private async Task RefreshAfterTaskAsync()
    {
        try
        {
            await RefreshAsync();
        }
        catch (ObjectDisposedException)
        {
            // The circuit closed while the task was running; nobody is looking at the balance any more.
        }
    }

    public void Dispose() => _subscription?.Dispose();
}
