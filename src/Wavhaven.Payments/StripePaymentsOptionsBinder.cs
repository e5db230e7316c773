using System.Collections;
using System.Collections.Frozen;
using System.Diagnostics;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Wavhaven.Payments.Catalog;
using Wavhaven.Payments.Webhooks;

namespace Wavhaven.Payments;

/// <summary>
/// Binds the <c>Stripe</c> section strictly, and turns what the binder would throw (or silently drop) into
/// failures that <see cref="StripePaymentsOptionsValidator"/> reports when the host starts: an unknown key,
/// named by its full path (<c>Stripe:Plans:1:Prices:0:TestPriceID</c>), and a value that cannot be read as its
/// setting's type, named by its path but never quoted, since a misplaced secret could be in it.
/// </summary>
/// <remarks>
/// The binding itself is the code that the configuration binding source generator writes for the
/// <see cref="ConfigurationBinder.Bind(IConfiguration, object?, Action{BinderOptions}?)"/> call below, so that it
/// needs no reflection in a trimmed or Native AOT app. On its own, that binder throws
/// <see cref="InvalidOperationException"/> from deep inside options creation, quotes unreadable values, stops at the
/// first unknown key and names it without the plan it sits in (and takes get-only and internal properties for settings),
/// silently skips a single value where a list or a section belongs (<c>Stripe:WebhookSecrets=whsec_…</c> instead
/// of <c>Stripe:WebhookSecrets:0</c>), which would leave the app without its webhook secret or a plan, and takes an
/// empty value for a number, duration, flag, name or URL (<c>Stripe:ApiBaseUrl=</c>) for no value, keeping the default.
/// The walk over the section before the binding, and the catch around it, turn all of those into start-up failures.
/// </remarks>
internal static partial class StripePaymentsOptionsBinder
{
    private const BindingFlags Settings = BindingFlags.Public | BindingFlags.Instance;

    /// <summary>
    /// The classes the Stripe section binds to, with their public properties. They are named here, each by its
    /// <see langword="typeof"/>, rather than found by following property types, so that the trimmer (and Native AOT)
    /// can see which types' properties are read and keep them. A class added to the options is added here too
    /// (a test walks the options and checks).
    /// </summary>
    internal static readonly FrozenDictionary<Type, PropertyInfo[]> Sections = new Dictionary<Type, PropertyInfo[]>
    {
        [typeof(StripePaymentsOptions)] = typeof(StripePaymentsOptions).GetProperties(Settings),
        [typeof(WebhookQueueOptions)] = typeof(WebhookQueueOptions).GetProperties(Settings),
        [typeof(PlanOptions)] = typeof(PlanOptions).GetProperties(Settings),
        [typeof(PlanPriceOptions)] = typeof(PlanPriceOptions).GetProperties(Settings),
    }.ToFrozenDictionary();

    public static void Bind(IConfiguration configuration, StripePaymentsOptions options)
    {
        // AddStripePayments may be called twice with the same section; binding it again would append every plan
        // and webhook secret a second time.
        if (!options.BoundSections.Add(PathOf(configuration)))
        {
            return;
        }

        var unknownKeys = new List<string>();
        CheckSection(configuration, typeof(StripePaymentsOptions), options.ConfigurationFailures, unknownKeys);
        try
        {
            // The walk above has named every unknown key. Strict binding is the generated binder's own check of the same,
            // kept as a second line; with unknown keys already reported, bind leniently so it does not add a vaguer message.
            var strict = unknownKeys.Count == 0;
            configuration.Bind(options, binder => binder.ErrorOnUnknownConfiguration = strict);
        }
        catch (NotSupportedException)
        {
            // A list the app set in code to an array (options.WebhookSecrets = new[] { … }) cannot take the section's entries.
            options.ConfigurationFailures.Add(
                "A list in the Stripe section could not take its entries from configuration: the app set it in code to a collection of fixed size " +
                "(an array). Set it to a List<…> instead, or set it in one place only, code or configuration.");
        }
        catch (InvalidOperationException exception)
        {
            var (path, message) = DescribeBindingFailure(exception);
            if (path is null || !unknownKeys.Any(key => string.Equals(path, key, StringComparison.OrdinalIgnoreCase) || path.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)))
            {
                options.ConfigurationFailures.Add(message);
            }
        }
    }

    /// <summary>Reports unknown keys, empty values of non-text settings, and single values where a list or section belongs.</summary>
    private static void CheckSection(IConfiguration section, Type type, List<string> failures, List<string> unknownKeys)
    {
        if (!IsScalar(type) && section is IConfigurationSection { Value.Length: > 0, Path: var valuePath })
        {
            // The binder would skip it without a word, and bind instead the entries that another source gives the same key
            // (Stripe__WebhookSecrets=whsec_… over appsettings.json's list would leave the app on the file's secret).
            failures.Add($"{valuePath} must be {ExpectedSection(type, valuePath)}; its value could not be read (it is not repeated here, in case it is a secret).");
        }

        if (IsScalar(type))
        {
            if (type != typeof(string) && section is IConfigurationSection { Value: "", Path: var emptyPath } && !section.GetChildren().Any())
            {
                // The binder would take it for no value and keep the default: Stripe:ApiBaseUrl= (an unset variable in
                // Stripe__ApiBaseUrl=${EMULATOR_URL}) would send the app to api.stripe.com instead of the emulator.
                failures.Add($"{emptyPath} is empty. Remove the key to use its default, or set it to {Expected((Nullable.GetUnderlyingType(type) ?? type).FullName!)}.");
            }

            foreach (var child in section.GetChildren())
            {
                unknownKeys.Add(child.Path);
                failures.Add($"{child.Path} is not a setting: {PathOf(section)} takes a single value, not a section.");
            }

            return;
        }

        if (ElementType(type) is { } elementType)
        {
            foreach (var child in section.GetChildren())
            {
                CheckSection(child, elementType, failures, unknownKeys);
            }

            return;
        }

        if (!Sections.TryGetValue(type, out var properties))
        {
            throw new UnreachableException($"{type} is bound from the Stripe section but is not one of StripePaymentsOptionsBinder.Sections.");
        }

        var settings = properties
            .Where(property => property.GetIndexParameters().Length == 0 && (property.SetMethod?.IsPublic == true || !IsScalar(property.PropertyType)))
            .ToDictionary(property => property.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (settings.TryGetValue(child.Key, out var property))
            {
                CheckSection(child, property.PropertyType, failures, unknownKeys);
            }
            else
            {
                unknownKeys.Add(child.Path);
                var where = PathOf(section) is { Length: > 0 } path ? " of " + path : string.Empty;
                failures.Add($"{child.Path} is not a setting. Check its spelling; the settings{where} are: {string.Join(", ", settings.Keys)}.");
            }
        }
    }

    private static string PathOf(IConfiguration section) => section is IConfigurationSection { Path: var path } ? path : string.Empty;

    private static bool IsScalar(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan)
            || type == typeof(Uri) || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid);
    }

    /// <summary>
    /// The value type of a dictionary or the element type of a list, array or sequence; null for other types. Read from
    /// the type's own generic arguments, not its interfaces, which a trimmed app need not keep: the binder takes
    /// collections only as arrays or generic collection types.
    /// </summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        if (!type.IsGenericType || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        var arguments = type.GetGenericArguments();
        return IsDictionary(type) ? arguments[1] : arguments.Length == 1 ? arguments[0] : null;
    }

    private static bool IsDictionary(Type type) =>
        type.IsGenericType && type.GetGenericTypeDefinition() is var definition
        && (definition == typeof(IDictionary<,>) || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(Dictionary<,>));

    /// <summary>What a section of the type looks like, for a single value found where the section belongs.</summary>
    private static string ExpectedSection(Type type, string path)
    {
        if (IsDictionary(type))
        {
            return $"a section, one key per entry ({path}:name)";
        }

        if (ElementType(type) is not null)
        {
            return $"a list, one key per entry ({path}:0, {path}:1, …; in environment variables {path.Replace(":", "__", StringComparison.Ordinal)}__0)";
        }

        var settings = Sections.TryGetValue(type, out var properties) ? string.Join(", ", properties.Take(2).Select(property => $"{path}:{property.Name}")) + ", …" : path + ":…";
        return $"a section, one key per setting ({settings})";
    }

    private static (string? Path, string Message) DescribeBindingFailure(InvalidOperationException exception)
    {
        for (Exception? inner = exception; inner is not null; inner = inner.InnerException)
        {
            var match = ConversionFailure().Match(inner.Message);
            if (match.Success)
            {
                var path = match.Groups["path"].Value;
                var type = match.Groups["type"].Value;
                return (path, $"{path} must be {Expected(type)}; its value could not be read (it is not repeated here, in case it is a secret).");
            }
        }

        return (null, "A value in the Stripe section could not be read as its setting's type: check the numbers, durations (00:05:00), "
            + "true/false flags, URLs, BillingType and Interval names. (Values are not repeated here, in case one is a secret.)");
    }

    private static string Expected(string typeName) => typeName switch
    {
        _ when typeName.EndsWith(nameof(BillingType), StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<BillingType>())}",
        _ when typeName.EndsWith(nameof(PriceInterval), StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<PriceInterval>())}",
        _ when typeName.EndsWith(nameof(WebhookProcessingMode), StringComparison.Ordinal) => $"one of {string.Join(", ", Enum.GetNames<WebhookProcessingMode>())}",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Boolean" => "true or false",
        "System.TimeSpan" => "a duration such as 00:05:00",
        "System.Uri" => "a URL",
        _ => "a " + typeName,
    };

    // The binder's message: Failed to convert configuration value '<value>' at '<path>' to type '<type>'.
    [GeneratedRegex(@" at '(?<path>[^']+)' to type '(?<type>[^']+)'\.?\s*$")]
    private static partial Regex ConversionFailure();
}
