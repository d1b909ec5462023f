import type { Metadata } from "next";
import { notFound } from "next/navigation";
import { OrderCheckout } from "@/ui/order-checkout";

interface OrderPageProps {
  params: Promise<{ orderId: string }>;
}

async function orderIdOf(params: OrderPageProps["params"]): Promise<number> {
  const { orderId } = await params;
  const id = Number(orderId);
  if (!/^\d+$/.test(orderId) || !Number.isSafeInteger(id) || id < 1) notFound();
  return id;
}

export async function generateMetadata({ params }: OrderPageProps): Promise<Metadata> {
  return { title: `Order #${await orderIdOf(params)} · Exactly Once Checkout` };
}

export default async function OrderPage({ params }: OrderPageProps) {
  const orderId = await orderIdOf(params);
  return (
    <main className="page">
      <section className="hero hero--checkout">
        <h1>Checkout</h1>
        <p>Pay with one of the test cards. However often you click, retry or reload, your card is charged once.</p>
      </section>
      <OrderCheckout orderId={orderId} />
    </main>
  );
}
