"""The rewards program: perks, earning and redeeming points, transactions and vouchers.

Reference sections: Perk, Perk Category, Earning Rules, Redeeming Rules, Transaction, Voucher,
User Voucher. Choices where the reference is silent are listed in the sandbox README.
"""
