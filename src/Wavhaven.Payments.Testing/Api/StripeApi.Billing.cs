using System.Text.Json.Nodes;
using Wavhaven.Payments.Testing.State;

namespace Wavhaven.Payments.Testing.Api;

/// <summary>The billing portal, subscriptions, invoices, payment intents and charges.</summary>
internal sealed partial class StripeApi
{
    private static readonly ObjectSpec CreatePortalParams = Accepts(
        ("customer", ParamSpec.Scalar),
        ("return_url", ParamSpec.Scalar),
        ("configuration", ParamSpec.Scalar),
        ("locale", ParamSpec.Scalar),
        ("on_behalf_of", ParamSpec.Unsupported),
        ("customer_account", ParamSpec.Unsupported),
        ("flow_data", ParamSpec.Object(
            ("type", ParamSpec.Scalar),
            ("after_completion", ParamSpec.Object(
                ("type", ParamSpec.Scalar),
                ("redirect", ParamSpec.Object(("return_url", ParamSpec.Scalar))),
                ("hosted_confirmation", ParamSpec.Object(("custom_message", ParamSpec.Scalar))))),
            ("subscription_update_confirm", ParamSpec.Object(
                ("subscription", ParamSpec.Scalar),
                ("items", ParamSpec.ListOf(ParamSpec.Object(("id", ParamSpec.Scalar), ("price", ParamSpec.Scalar), ("quantity", ParamSpec.Scalar)))),
                ("discounts", ParamSpec.Unsupported))),
            ("subscription_update", ParamSpec.Object(("subscription", ParamSpec.Scalar))),
            ("subscription_cancel", ParamSpec.Object(("subscription", ParamSpec.Scalar), ("retention", ParamSpec.Unsupported))))));

    private static readonly ObjectSpec UpdateSubscriptionParams = Accepts(
        ("items", ParamSpec.ListOf(ParamSpec.Object(
            ("id", ParamSpec.Scalar),
            ("price", ParamSpec.Scalar),
            ("quantity", ParamSpec.Scalar),
            ("deleted", ParamSpec.Scalar),
            ("price_data", ParamSpec.Unsupported),
            ("discounts", ParamSpec.Unsupported),
            ("metadata", ParamSpec.Unsupported)))),
        ("proration_behavior", ParamSpec.Scalar),
        ("cancel_at_period_end", ParamSpec.Scalar),
        ("metadata", ParamSpec.Map),
        ("payment_behavior", ParamSpec.Scalar),
        ("cancel_at", ParamSpec.Unsupported),
        ("trial_end", ParamSpec.Unsupported),
        ("pause_collection", ParamSpec.Unsupported),
        ("proration_date", ParamSpec.Unsupported),
        ("billing_cycle_anchor", ParamSpec.Unsupported),
        ("cancellation_details", ParamSpec.Unsupported),
        ("discounts", ParamSpec.Unsupported));

    private void MapPortal() => Map("POST", "/v1/billing_portal/sessions", CreatePortalParams, CreatePortalSession);

    private void MapSubscriptions()
    {
        Map("GET", "/v1/subscriptions/{id}", Nothing, call => _store.Get<Subscription>(call.Id, "subscription", "id").ToJson(_store));
        Map("GET", "/v1/subscriptions", ListAccepts("customer", "price", "status"), ListSubscriptions);
        Map("POST", "/v1/subscriptions/{id}", UpdateSubscriptionParams, UpdateSubscription);
        Map("DELETE", "/v1/subscriptions/{id}", Accepts(("invoice_now", ParamSpec.Scalar), ("prorate", ParamSpec.Scalar), ("cancellation_details", ParamSpec.Map)), call =>
        {
            var subscription = _store.Get<Subscription>(call.Id, "subscription", "id");
            _store.CancelNow(subscription, call.Request);
            return subscription.ToJson(_store);
        });
    }

    private void MapInvoicesAndPayments()
    {
        Map("GET", "/v1/invoices/{id}", Nothing, call => _store.Get<Invoice>(call.Id, "invoice", "id").ToJson(_store));
        Map("GET", "/v1/invoices", ListAccepts("customer", "subscription", "status"), call =>
        {
            var customer = call.Params.String("customer");
            var subscription = call.Params.String("subscription");
            var status = call.Params.OneOf("status", "draft", "open", "paid", "uncollectible", "void");
            return EntityPage(call, _store.All<Invoice>().Where(invoice =>
                (customer is null || invoice.CustomerId == customer)
                && (subscription is null || invoice.SubscriptionId == subscription)
                && (status is null || invoice.Status == status)), "/v1/invoices", _store);
        });
        Map("GET", "/v1/payment_intents/{id}", Nothing, call => _store.Get<PaymentIntent>(call.Id, "payment_intent", "id").ToJson(_store));
        Map("GET", "/v1/charges/{id}", Nothing, call => _store.Get<Charge>(call.Id, "charge", "id").ToJson(_store));
    }

    private JsonObject CreatePortalSession(ApiCall call)
    {
        var p = call.Params;
        var customerId = p.RequiredString("customer");
        var customer = _store.Find<Customer>(customerId) ?? throw ApiException.InvalidRequest($"No such customer: '{customerId}'", "customer", "resource_missing");
        var returnUrl = HttpUrl(p, "return_url");
        string? flowType = null, subscriptionId = null, itemId = null, priceId = null, afterType = null, afterUrl = null;
        long? quantity = null;
        if (p.Object("flow_data") is { } flow)
        {
            flowType = flow.OneOf("type", "payment_method_update", "subscription_cancel", "subscription_update", "subscription_update_confirm")
                ?? throw ApiException.Missing(flow.ParamPath("type"));
            if (flow.Object("after_completion") is { } after)
            {
                afterType = after.OneOf("type", "redirect", "hosted_confirmation", "portal_homepage") ?? throw ApiException.Missing(after.ParamPath("type"));
                if (afterType == "redirect")
                {
                    var redirect = after.Object("redirect") ?? throw ApiException.Missing(after.ParamPath("redirect"));
                    afterUrl = HttpUrl(redirect, "return_url") ?? throw ApiException.Missing(redirect.ParamPath("return_url"));
                }
            }

            if (flowType is "subscription_update_confirm" or "subscription_update" or "subscription_cancel")
            {
                var details = flow.Object(flowType) ?? throw ApiException.Missing(flow.ParamPath(flowType));
                subscriptionId = details.RequiredString("subscription");
                var subscription = _store.Find<Subscription>(subscriptionId);
                if (subscription is null || subscription.CustomerId != customer.Id)
                {
                    throw ApiException.InvalidRequest($"No such subscription: '{subscriptionId}' for customer '{customer.Id}'.", details.ParamPath("subscription"), "resource_missing");
                }

                if (subscription.IsEnded)
                {
                    throw ApiException.InvalidRequest($"Subscription {subscriptionId} is canceled and cannot be changed in the portal.", details.ParamPath("subscription"));
                }

                if (flowType == "subscription_update_confirm")
                {
                    if (subscription.Items.Count > 1)
                    {
                        throw ApiException.InvalidRequest($"Subscription {subscriptionId} has several items: subscriptions with multiple items are not updatable in the portal.", details.ParamPath("subscription"));
                    }

                    var item = details.List("items").FirstOrDefault();
                    if (item.Node is null)
                    {
                        throw ApiException.Missing(details.ParamPath("items"));
                    }

                    itemId = item.RequiredString("id");
                    if (subscription.Items.All(candidate => candidate.Id != itemId))
                    {
                        throw ApiException.InvalidRequest($"No such subscription item: '{itemId}' on subscription '{subscriptionId}'.", item.ParamPath("id"), "resource_missing");
                    }

                    priceId = item.String("price");
                    if (priceId is not null && _store.Find<Price>(priceId) is not { IsRecurring: true })
                    {
                        throw ApiException.InvalidRequest($"No such recurring price: '{priceId}'", item.ParamPath("price"), "resource_missing");
                    }

                    quantity = item.Long("quantity");
                    if (priceId is null && quantity is null)
                    {
                        throw ApiException.InvalidRequest("Each item of subscription_update_confirm needs a price or a quantity.", item.Path);
                    }
                }
            }
        }

        var session = _store.Add(new PortalSession(Ids.New("bps_"), _store.Now, customer.Id)
        {
            ReturnUrl = returnUrl,
            Locale = p.String("locale"),
            FlowType = flowType,
            FlowSubscriptionId = subscriptionId,
            FlowItemId = itemId,
            FlowPriceId = priceId,
            FlowQuantity = quantity,
            AfterCompletionType = flowType is null ? null : afterType ?? "portal_homepage",
            AfterCompletionReturnUrl = afterUrl,
        });
        return session.ToJson(_store);
    }

    private JsonObject ListSubscriptions(ApiCall call)
    {
        var customer = call.Params.String("customer");
        var price = call.Params.String("price");
        var status = call.Params.OneOf("status", "active", "all", "canceled", "ended", "incomplete", "incomplete_expired", "past_due", "paused", "trialing", "unpaid");
        var subscriptions = _store.All<Subscription>().Where(subscription =>
            (customer is null || subscription.CustomerId == customer)
            && (price is null || subscription.Items.Any(item => item.Price.Id == price))
            && status switch
            {
                null => subscription.Status != "canceled",
                "all" => true,
                "ended" => subscription.IsEnded,
                _ => subscription.Status == status,
            });
        return EntityPage(call, subscriptions, "/v1/subscriptions", _store);
    }

    private JsonObject UpdateSubscription(ApiCall call)
    {
        var subscription = _store.Get<Subscription>(call.Id, "subscription", "id");
        var p = call.Params;
        var change = new SubscriptionChange
        {
            ProrationBehavior = p.OneOf("proration_behavior", "create_prorations", "always_invoice", "none") ?? "create_prorations",
            CancelAtPeriodEnd = p.Bool("cancel_at_period_end"),
            ApplyMetadata = p.Has("metadata") ? target => p.ApplyMetadata("metadata", target) : null,
        };
        p.OneOf("payment_behavior", "allow_incomplete", "default_incomplete", "error_if_incomplete", "pending_if_incomplete");
        foreach (var item in p.List("items"))
        {
            Price? price = null;
            if (item.String("price") is { } priceId)
            {
                price = _store.Find<Price>(priceId) ?? throw ApiException.InvalidRequest($"No such price: '{priceId}'", item.ParamPath("price"), "resource_missing");
            }

            var quantity = item.Long("quantity");
            if (quantity is < 0)
            {
                throw ApiException.InvalidRequest("Quantity must be zero or more.", item.ParamPath("quantity"));
            }

            change.Items.Add(new ItemChange(item.String("id"), price, quantity, item.Bool("deleted") ?? false, item.Path));
        }

        _store.UpdateSubscription(subscription, change, call.Request);
        return subscription.ToJson(_store);
    }
}
