"""HTTP simulators of the Centra Order API, the Shopify GraphQL Admin API, the WooCommerce REST API and the myOGO v1
API, with fault injection (stdlib only, but for graphql-core, which executes the Shopify documents)."""

from ogosync_local.sim.centra import CentraSimulator, sign_centra_webhook
from ogosync_local.sim.faults import FaultConfig, FaultDecision, FaultRule, Faults
from ogosync_local.sim.myogo import MyOgoSimulator, sign_myogo_webhook
from ogosync_local.sim.server import ManualClock, SimServer
from ogosync_local.sim.shopify import ShopifySimulator, sign_shopify_webhook
from ogosync_local.sim.webhooks import DeliveryRecord
from ogosync_local.sim.woocommerce import WooCommerceSimulator, sign_woocommerce_webhook

__all__ = [
    "CentraSimulator",
    "DeliveryRecord",
    "FaultConfig",
    "FaultDecision",
    "FaultRule",
    "Faults",
    "ManualClock",
    "MyOgoSimulator",
    "ShopifySimulator",
    "SimServer",
    "WooCommerceSimulator",
    "sign_centra_webhook",
    "sign_myogo_webhook",
    "sign_shopify_webhook",
    "sign_woocommerce_webhook",
]
