"""what counts at a date: service known-from, allocation status and estimated areas, fund eligibility

Review spec v2 ("What counts, at a date"; issue 11):

- `service.known_from`: the date the record first became known (its source report's date); a missing start date
  counts from here. Existing rows keep NULL (unknown) until reloaded or edited.
- `allocation.status`: applied | awarded | paid | withdrawn. Only awarded and paid are money. Existing rows are
  awarded (what they were taken to be before).
- `allocation.areas_are_estimate`: the areas were placed by a rule, the source does not break the money down by them.
- `fund_eligible_area`: the areas a fund is open to (any level); no row means the whole force.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.add_column(sa.Column('known_from', sa.Date(), nullable=True))

    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.String(length=10), server_default='awarded', nullable=False))
        batch_op.add_column(sa.Column('areas_are_estimate', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))

    op.create_table('fund_eligible_area',
    sa.Column('fund_id', sa.Integer(), nullable=False),
    sa.Column('area_code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['area_code'], ['area.code'], ),
    sa.ForeignKeyConstraint(['fund_id'], ['fund.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('fund_id', 'area_code')
    )


def downgrade() -> None:
    op.drop_table('fund_eligible_area')
    with op.batch_alter_table('allocation', schema=None) as batch_op:
        batch_op.drop_column('areas_are_estimate')
        batch_op.drop_column('status')
    with op.batch_alter_table('service', schema=None) as batch_op:
        batch_op.drop_column('known_from')
