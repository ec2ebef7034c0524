namespace BananaLab.Tests.Infrastructure;

/// <summary>The real app on a fresh database of the shared test PostgreSQL server instead of SQLite.</summary>
public class PostgresFactory : BananaLabFactory
{
    public PostgresFactory() =>
        ConnectionString = PostgresServer.Shared.GetAwaiter().GetResult().CreateDatabaseAsync().GetAwaiter().GetResult();

    public string ConnectionString { get; }

    /// <summary>Settings a derived factory adds on top of the PostgreSQL ones.</summary>
    protected virtual IDictionary<string, string?> MoreSettings => new Dictionary<string, string?>();

    protected sealed override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = new Dictionary<string, string?>
            {
                ["Database:Provider"] = "Postgres",
                ["ConnectionStrings:BananaLab"] = ConnectionString,
            };
            foreach (var (key, value) in MoreSettings) settings[key] = value;
            return settings;
        }
    }
}
